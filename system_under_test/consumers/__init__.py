"""Consumers: apply write events to PostgreSQL exactly once, then refresh the cache."""
