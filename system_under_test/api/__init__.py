"""The HTTP Feed API: reads fan out over gRPC, writes are confirmed broker publishes."""
