"""The sample feed system that feedchaos breaks on purpose.

Reads fan out over gRPC (api -> feed/card/user RPC -> Redis, PostgreSQL);
writes go through RabbitMQ to consumers that apply them to PostgreSQL and
refresh the Redis cache. See docs/architecture.md for the map.
"""
