"""The checks. Each module registers its rules (ids, categories) and one or more check functions.

A check gets a `PatternContext` and reports through `ctx.report(rule_id, ...)`; the runner turns
any exception into a "could not analyse" notice, so a check may assume well-formed input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..context import PatternContext

CheckFn = Callable[[PatternContext], None]


@dataclass(frozen=True)
class Check:
    name: str
    rules: tuple[str, ...]
    fn: CheckFn


CHECKS: list[Check] = []


def check(name: str, *rules: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(name, rules, fn))
        return fn

    return register


def load_all() -> list[Check]:
    """Import every rule module once (registration happens at import)."""
    from . import (  # noqa: F401
        atomicity,
        checkov,
        docs,
        durable,
        hygiene,
        iam,
        lifecycle,
        metadata,
        paths,
        runtime,
        scenarios,
        state_machine,
    )

    return CHECKS
