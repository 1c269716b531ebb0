"""The catalog tooling: CLI, metadata schema, packaging, embedded AWS, engine runners, policies."""
