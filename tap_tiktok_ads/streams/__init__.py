"""Streams, one module per domain."""
