"""The stores: PostgreSQL (record), Redis (cache), and the views computed from them."""
