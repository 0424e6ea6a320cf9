"""Chat over WebSocket (/api/v1/ws): the wire format, origin and auth checks, the per-socket
session that drives the chat use cases, and the registry that re-checks live credentials."""
