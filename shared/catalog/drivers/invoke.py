"""Driver for patterns driven by one function: a synchronous invoke per scenario.

Metadata `catalog.driver.function` names the function (a key of the stack output
`function_names`); the scenario input is the payload. A function error fails the scenario with the
error type the function raised; the rows of every table that mention the input are read back.
"""

from __future__ import annotations

import json
import time

from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult, StepRecord
from .stepfunctions import related_rows


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    function = ctx.pattern.metadata.get("catalog", {}).get("driver", {}).get("function")
    names = ctx.outputs.get("function_names", {})
    if not function or function not in names:
        raise DriverError(
            f"{ctx.pattern.name}: catalog.driver.function must name a key of outputs.function_names"
            f" (has: {', '.join(sorted(names)) or 'none'})"
        )
    ctx.inject_faults(scenario)
    started = time.perf_counter()
    response = ctx.client("lambda").invoke(
        FunctionName=names[function], Payload=json.dumps(scenario.input).encode()
    )
    body = response["Payload"].read()
    duration = time.perf_counter() - started
    payload = json.loads(body) if body else None
    failed = "FunctionError" in response
    error = payload.get("errorType") if failed and isinstance(payload, dict) else None
    return ScenarioResult(
        scenario=scenario.name,
        status="FAILED" if failed else "SUCCEEDED",
        error=error,
        steps=[StepRecord(function, "invoke", ok=not failed)],
        tables=related_rows(ctx, scenario.input),
        details={"response": payload},
        duration_s=duration,
    )
