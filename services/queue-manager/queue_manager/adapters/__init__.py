"""Implementations of the queue manager's ports (journal stores) and its metrics."""
