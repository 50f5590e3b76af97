"""The Feed, Card and User gRPC services (one .proto, generated code committed)."""
