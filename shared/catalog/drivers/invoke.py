"""Driver for patterns started by a direct invocation (single-function patterns among them):
invoke one function of the stack with the scenario's input (synchronously, as `aws lambda invoke`
does), let the stack settle (its event-source mappings run until idle), observe.

Metadata `catalog.driver.function` names the function (a key of the stack output
`function_names`). A function error fails the scenario with the error type the function raised.
Faults are injected on the embedded AWS only; the report's steps, tables and link keys come from
metadata `catalog.report` (a `requests` step is the invocation); without steps the report lists
the invocation under the function's name, then every function the event sources ran.
"""

from __future__ import annotations

import time

from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult, StepRecord
from .observe import identifiers
from .stack import StackRun, error_type, seed_identifiers


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    started = time.perf_counter()
    function = ctx.driver_settings.get("function")
    names = ctx.outputs.get("function_names") or {}
    if not isinstance(function, str) or function not in names:
        raise DriverError(
            f"{ctx.pattern.name}: catalog.driver.function must name a key of outputs.function_names"
            f" (has: {', '.join(sorted(names)) or 'none'})"
        )
    run = StackRun(ctx)
    faults = ctx.apply_faults(scenario)
    failure_urls = run.failure_queue_urls()
    depths_before = run.queue_depths()
    invoked = run.invoke(function, scenario.input)
    run.settle()
    depths_after = run.queue_depths()
    parked = {name: depths_after.get(name, 0) - depths_before.get(name, 0) for name in failure_urls}
    result = invoked["result"]
    failed = [] if invoked["ok"] else [error_type(result)]
    status, error = run.outcome(failed, parked)
    steps = run.steps(ctx.report, 1, invoked["ok"])
    if not ctx.report.steps:
        steps[0] = StepRecord(function, "invoke", 1, invoked["ok"])
    return ScenarioResult(
        scenario=scenario.name,
        status=status,
        error=error,
        steps=steps,
        tables=run.report_rows(seed_identifiers(scenario) | identifiers([scenario.input, result])),
        details={"response": result, **run.details(faults, failure_urls, parked)},
        duration_s=time.perf_counter() - started,
    )
