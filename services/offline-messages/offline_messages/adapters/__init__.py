"""Implementations of the offline-messages ports (memory and MongoDB stores) and its metrics."""
