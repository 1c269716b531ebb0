"""scenario: this catalog's `events/*.json` scenarios, checked by `catalog.scenarios.check_scenarios`
(the same check `catalog validate` and every deploy run before creating anything)."""

from __future__ import annotations

import os

from ...scenarios import check_scenarios
from ..context import PatternContext
from ..model import rule
from . import check

rule(
    "SCN001",
    "scenario",
    "error",
    "this catalog: scenario file invalid (JSON, schema) or naming what the pattern lacks "
    "(a fault on a function that does not exist, an unknown error kind, a seed table not output)",
    "events/declined.json:6 fault names function 'charge-paymnt', which the pattern does not have",
)


@check("scenarios", "SCN001")
def check_pattern_scenarios(ctx: PatternContext) -> None:
    if ctx.flavour != "catalog" or not any(f.startswith("events/") for f in ctx.files):
        return
    for problem in check_scenarios(ctx.root):
        rel = os.path.relpath(problem.file, ctx.root) if problem.file else "events"
        ctx.report(
            "SCN001",
            rel,
            problem.line,
            ctx.relative(problem.message),
            "fix the scenario: see the scenario format in shared/README.md",
        )
