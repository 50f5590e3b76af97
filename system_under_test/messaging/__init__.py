"""The write path's wire: event schema, broker topology, confirmed publishing."""
