"""The HTTP and WebSocket entry points, and the request and response types they share."""
