"""Implementations of the projector's port (memory, MongoDB) and its metrics."""
