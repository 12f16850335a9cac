"""Gateway: the public gRPC API. Authenticates tenants, validates input, stores selfies in Redis
with a TTL, fans work out to the service queues and awaits the reply within the deadline."""
