"""The `catalog` subcommands, exit codes and error kinds (apart from the CLI so checks can read
them without its imports)."""

from __future__ import annotations

import argparse
from typing import NoReturn

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
    "export",
    "new",
    "review",
    "bench",
    "test",
)

# One exit code per kind of failure (the README's table is generated from the same facts).
EXIT_OK = 0
EXIT_DEPLOYMENT = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_ENVIRONMENT = 4
EXIT_INTERNAL = 70
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_DEPLOYMENT: "deployment failure: terraform failed, drift after apply, a scenario "
    "outcome other than expected, resources left after destroy",
    EXIT_USAGE: "usage: unknown command, missing argument, bad flag or flag value",
    EXIT_BAD_INPUT: "bad input: unknown pattern or scenario, invalid metadata or scenario, "
    "Terraform or Pulumi code that does not parse, bad --out",
    EXIT_ENVIRONMENT: "environment: terraform, the provider mirror or the Pulumi CLI missing, "
    "no AWS region or profile, a bad environment variable, another run holds the lock",
    EXIT_INTERNAL: "internal error (a bug in the catalog: please report it)",
    130: "interrupted by SIGINT (after cleaning up)",
    143: "interrupted by SIGTERM (after cleaning up)",
}


class CatalogError(Exception):
    """An error with a clear one-line message and the exit code of its kind."""

    exit_code = EXIT_DEPLOYMENT


class UsageError(CatalogError):
    exit_code = EXIT_USAGE


class BadInput(CatalogError):
    exit_code = EXIT_BAD_INPUT


class EnvironmentProblem(CatalogError):
    exit_code = EXIT_ENVIRONMENT


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line) instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")
