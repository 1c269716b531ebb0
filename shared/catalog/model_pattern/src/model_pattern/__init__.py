"""The functions' code: one module per function in functions/, shared code next to this file."""
