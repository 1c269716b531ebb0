"""Driver for Step Functions patterns: one execution per scenario, read back from its history.

Outputs used: `state_machine_arn`, `table_names`. Metadata `catalog.report.compensations` names the
states that are compensations, so the report can show them as they ran; its `tables` and
`linkKeys` pick the rows shown.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ..scenarios import Scenario
from .base import DriverContext, DriverError, ReportSpec, ScenarioResult, StepRecord
from .observe import identifiers, related_rows, table_rows

POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 120.0


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    arn = ctx.outputs.get("state_machine_arn")
    if not arn:
        raise DriverError(f"{ctx.pattern.name}: outputs have no state_machine_arn")
    ctx.apply_faults(scenario)
    sfn = ctx.client("stepfunctions")
    started = time.perf_counter()
    # Step Functions needs a unique name per execution; the emulator requires one explicitly.
    execution_arn = sfn.start_execution(
        stateMachineArn=arn,
        name=f"{scenario.name}-{uuid.uuid4().hex[:12]}",
        input=json.dumps(scenario.input),
    )["executionArn"]
    description = wait_for_execution(ctx, sfn, execution_arn)
    duration = time.perf_counter() - started
    report = ctx.report
    steps = steps_from_history(history(sfn, execution_arn), report)
    return ScenarioResult(
        scenario=scenario.name,
        status=description["status"],
        error=description.get("error"),
        steps=steps,
        tables=related_rows(
            table_rows(ctx, report.tables),
            identifiers(scenario.input) | {execution_arn},
            report.link_keys,
        ),
        details={
            "executionArn": execution_arn,
            "cause": description.get("cause"),
            "output": description.get("output"),
        },
        duration_s=duration,
    )


def wait_for_execution(
    ctx: DriverContext, sfn: Any, execution_arn: str, timeout: float = TIMEOUT_SECONDS
) -> dict[str, Any]:
    if ctx.aws is not None:  # the embedded AWS says when an execution ends: no polling
        if ctx.aws.executions.wait([execution_arn], timeout):
            raise DriverError(f"execution {execution_arn} still RUNNING after {timeout:.0f}s")
        return dict(sfn.describe_execution(executionArn=execution_arn))
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        if time.monotonic() > deadline:
            raise DriverError(f"execution {execution_arn} still RUNNING after {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def steps_from_history(events: list[dict[str, Any]], report: ReportSpec) -> list[StepRecord]:
    """Task states as entered, with Lambda attempts and whether the last one succeeded."""
    steps: list[StepRecord] = []
    current: str | None = None
    attempts, ok = 0, False
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            current, attempts, ok = event["stateEnteredEventDetails"]["name"], 0, False
        elif kind in ("LambdaFunctionScheduled", "TaskScheduled") and current:
            attempts += 1
        elif kind in ("LambdaFunctionSucceeded", "TaskSucceeded"):
            ok = True
        elif kind in (
            "LambdaFunctionFailed",
            "TaskFailed",
            "LambdaFunctionTimedOut",
            "TaskTimedOut",
        ):
            ok = False
        elif kind == "TaskStateExited" and current:
            step_kind = "compensation" if report.is_compensation(current) else "task"
            steps.append(StepRecord(current, step_kind, max(attempts, 1), ok))
            current = None
    if current:  # a task that failed terminally ends the execution without TaskStateExited
        steps.append(
            StepRecord(
                current,
                "compensation" if report.is_compensation(current) else "task",
                max(attempts, 1),
                ok,
            )
        )
    return steps
