"""Business rules as plain functions: they take a Session and values, flush, never commit."""
