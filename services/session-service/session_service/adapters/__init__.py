"""Implementations of the session service's ports (session stores) and its metrics."""
