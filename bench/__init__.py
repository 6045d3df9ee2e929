"""Performance harness: `make bench` measures the broker floor and the system against it."""
