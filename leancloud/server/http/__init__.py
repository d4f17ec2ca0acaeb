"""The HTTP layer: routing, authentication into a Principal, JSON in and out, errors."""
