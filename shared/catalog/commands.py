"""The `catalog` subcommands (kept apart from the CLI so checks can read them without its imports)."""

SUBCOMMANDS = (
    "list",
    "build",
    "up",
    "down",
    "cycle",
    "run",
    "demo",
    "validate",
    "changed",
    "lint",
    "index",
    "review",
    "bench",
    "test",
)
