"""Visitor gateway: the public HTTP and WebSocket edge for visitors and operators."""
