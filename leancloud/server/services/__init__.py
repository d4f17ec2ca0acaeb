"""The server's rules, in Python values: objects, field operations, batch, users."""
