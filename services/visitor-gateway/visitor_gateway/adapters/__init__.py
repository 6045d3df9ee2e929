"""The gateway's outside: the internal services' APIs, the identity provider, sockets, logs."""
