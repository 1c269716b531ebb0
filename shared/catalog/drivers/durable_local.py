"""Driver for Lambda durable functions patterns: the orchestrator runs under the durable execution
SDK's local runner (`DurableFunctionTestRunner`, virtual clock), its `context.invoke` targets bound
in-process to the pattern's real worker handlers, which use the tables deployed on the embedded AWS.

Why not the deployed orchestrator: the emulator has no durable execution APIs (it accepts
`DurableConfig` and drops it), so the SDK's runner plays the Lambda durable execution service:
checkpoints, replays, waits and retry backoffs, with waits skipped instead of slept.

Outputs used:
- `function_names`: logical name -> deployed name of every function: `orchestrator`, the durable
  function, and the workers it invokes;
- `table_names`: logical name -> deployed table (exported to the run as `<LOGICAL>_TABLE`).

Each function's handler and environment come from its deployed configuration (Lambda
GetFunctionConfiguration) when the endpoint has one, else from the pattern's sources and outputs
(`<LOGICAL>_FUNCTION = <name>:<metadata catalog.driver.worker_qualifier, default "live">`). The
variables of all functions are applied to the process for the duration of the run (a union: the
functions share the process here). Scenario faults (embedded AWS only, registered on
`ctx.aws.faults`) wrap the worker handlers: `before` raises instead of running the handler, `after`
runs it (its side effects happen) and then raises, losing the response. Against real AWS
(`ctx.aws` is None) the same local run uses the deployed tables and functions' configuration.
The report lists every top-level operation with its attempts; metadata `catalog.report` names the
compensations (`compensations`) and picks the rows shown (`tables`, `linkKeys`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..localaws.faults import FaultInjector
from ..localaws.invoker import Invocation
from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult
from .durable_operations import describe_operation, short_error_name, step_record, virtual_seconds
from .durable_runner import local_runner
from .observe import identifiers, related_rows, table_rows

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python_testing.runner import (
        DurableFunctionTestResult,
        DurableFunctionTestRunner,
    )

FUNCTIONS_OUTPUT = "function_names"
ORCHESTRATOR = "orchestrator"  # its key there; every other key is a worker
TABLES_OUTPUT = "table_names"
DEFAULT_QUALIFIER = "live"
EXECUTION_TIMEOUT_S = 300  # real seconds: waits and backoffs are skipped by the virtual clock
_QUIET = ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing")

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionSetup:
    logical: str  # "orchestrator" or a function_names key
    deployed_name: str
    handler: Handler
    environment: dict[str, str]


@dataclass(frozen=True)
class WorkerCall:
    """One in-process worker invocation made by the orchestrator."""

    function: str  # deployed name
    event: Any
    ok: bool
    error_type: str | None
    injected: str | None  # "before" / "after" when a fault replaced the outcome
    handler_ran: bool
    started: float
    ended: float


@dataclass
class LocalDurableApp:
    """The deployed pattern's orchestrator under the SDK's local runner, workers bound in-process.

    Use as a context manager: inside it the functions' environment is applied to the process and
    `start`/`wait`/`run` drive executions (several may run at once).
    """

    ctx: DriverContext
    faults: FaultInjector = field(default_factory=FaultInjector)
    environment: Mapping[str, str] = field(default_factory=dict)  # extra variables, win last
    # Logical name ("orchestrator" or a worker key) -> handler to run instead of the imported
    # one (tests: spies, deliberately broken variants).
    overrides: Mapping[str, Handler] = field(default_factory=dict)
    execution_timeout_s: int = EXECUTION_TIMEOUT_S
    calls: list[WorkerCall] = field(default_factory=list)
    orchestrator: FunctionSetup | None = None
    workers: dict[str, FunctionSetup] = field(default_factory=dict)
    _runner: DurableFunctionTestRunner | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> LocalDurableApp:
        try:
            self.orchestrator, self.workers = resolve_functions(self.ctx, self.overrides)
            variables = merged_environment(self.ctx, self.orchestrator, self.workers)
            self._stack.enter_context(applied_environment({**variables, **self.environment}))
            self._stack.enter_context(quiet_loggers())
            runner = self._stack.enter_context(local_runner(self.orchestrator.handler))
            for setup in self.workers.values():
                runner.register_function(setup.deployed_name, self._bind(setup))
            self._runner = runner
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._runner = None
        self._stack.close()

    # --- executions -------------------------------------------------------------------------

    def start(self, payload: Any, name: str | None = None) -> str:
        """Start an execution; returns its ARN at once."""
        return self._require_runner().run_async(
            input=json.dumps(payload),
            execution_timeout=self.execution_timeout_s,
            function_name=self.orchestrator.deployed_name if self.orchestrator else "orchestrator",
            execution_name=name or f"run-{uuid.uuid4().hex[:12]}",
        )

    def wait(self, execution_arn: str, timeout: float | None = None) -> DurableFunctionTestResult:
        return self._require_runner().wait_for_result(
            execution_arn, timeout=int(timeout or self.execution_timeout_s)
        )

    def run(self, payload: Any, name: str | None = None) -> DurableFunctionTestResult:
        return self.wait(self.start(payload, name))

    def _require_runner(self) -> DurableFunctionTestRunner:
        if self._runner is None:
            raise DriverError("LocalDurableApp is not entered (use it in a `with` block)")
        return self._runner

    # --- workers ----------------------------------------------------------------------------

    def _bind(self, setup: FunctionSetup) -> Handler:
        name = setup.deployed_name

        def invoke(event: Any, context: Any) -> Any:
            started = time.monotonic()
            fault = self.faults.take(name, event, "before")
            if fault is not None:
                self._record(name, event, started, fault.error, "before", ran=False)
                raise injected_error(fault.error)(fault.message)
            try:
                result = setup.handler(event, context)
            except Exception as error:
                self._record(name, event, started, type(error).__name__, None, ran=True)
                raise
            fault = self.faults.take(name, event, "after")
            if fault is not None:  # the side effects happened; the response is lost
                self._record(name, event, started, fault.error, "after", ran=True)
                raise injected_error(fault.error)(fault.message)
            self._record(name, event, started, None, None, ran=True)
            return result

        return invoke

    def _record(
        self,
        name: str,
        event: Any,
        started: float,
        error: str | None,
        injected: str | None,
        ran: bool,
    ) -> None:
        ended = time.monotonic()
        call = WorkerCall(name, event, error is None, error, injected, ran, started, ended)
        with self._lock:
            self.calls.append(call)
        if self.ctx.aws is not None:  # the embedded AWS keeps one log of every invocation
            now = datetime.now(UTC)
            self.ctx.aws.invocations.append(
                Invocation(
                    function_name=name,
                    event=event,
                    request_id=str(uuid.uuid4()),
                    ok=error is None,
                    error_type=error,
                    error_message=None,
                    injected=injected,
                    handler_ran=ran,
                    started=call.started,
                    ended=call.ended,
                    started_at=now,
                    ended_at=now,
                )
            )


_ERROR_TYPES: dict[str, type[Exception]] = {}
_ERROR_TYPES_LOCK = threading.Lock()


def injected_error(name: str) -> type[Exception]:
    """An exception class named exactly like the fault's error. Its module is `builtins`, so the
    SDK reports the bare name, as AWS Lambda does for a function error (`errorType`)."""
    with _ERROR_TYPES_LOCK:
        cls = _ERROR_TYPES.get(name)
        if cls is None:
            cls = type(name, (Exception,), {"__module__": "builtins"})
            _ERROR_TYPES[name] = cls
        return cls


# --- setup ------------------------------------------------------------------------------------


def resolve_functions(
    ctx: DriverContext, overrides: Mapping[str, Handler] | None = None
) -> tuple[FunctionSetup, dict[str, FunctionSetup]]:
    names = ctx.outputs.get(FUNCTIONS_OUTPUT)
    names = dict(names) if isinstance(names, dict) else {}
    orchestrator_name = names.pop(ORCHESTRATOR, None)
    workers = names
    if not orchestrator_name or not workers:
        raise DriverError(
            f"{ctx.pattern.name}: outputs need {FUNCTIONS_OUTPUT} with {ORCHESTRATOR!r} and the "
            "workers"
        )
    src = str(ctx.pattern.root / "src")
    if src not in sys.path:
        sys.path.insert(0, src)  # the pattern's package imports like the deployed zip's
    try:
        lambda_client = ctx.client("lambda")  # one client: creating one costs ~0.4 s
    except Exception:
        lambda_client = None
    orchestrator = _setup(ctx, lambda_client, ORCHESTRATOR, str(orchestrator_name))
    resolved = {
        logical: _setup(ctx, lambda_client, logical, str(name)) for logical, name in workers.items()
    }
    for logical, handler in (overrides or {}).items():
        if logical == ORCHESTRATOR:
            orchestrator = dataclasses.replace(orchestrator, handler=handler)
        elif logical in resolved:
            resolved[logical] = dataclasses.replace(resolved[logical], handler=handler)
        else:
            raise DriverError(f"override for unknown function {logical!r}")
    return orchestrator, resolved


def _setup(ctx: DriverContext, client: Any, logical: str, deployed_name: str) -> FunctionSetup:
    config = _deployed_configuration(client, deployed_name)
    handler_path = str(config.get("Handler") or "") or _handler_from_sources(ctx, deployed_name)
    environment = dict((config.get("Environment") or {}).get("Variables") or {})
    return FunctionSetup(logical, deployed_name, import_handler(handler_path), environment)


def _deployed_configuration(client: Any, name: str) -> dict[str, Any]:
    if client is None:
        return {}
    try:
        return dict(client.get_function_configuration(FunctionName=name))
    except Exception:  # no endpoint, no such function, no permission: fall back to sources
        return {}


def _handler_from_sources(ctx: DriverContext, deployed_name: str) -> str:
    for spec in ctx.pattern.functions:
        if deployed_name == spec.name or deployed_name.endswith("-" + spec.name):
            return spec.handler
    raise DriverError(f"{ctx.pattern.name}: no function in src/ matches {deployed_name!r}")


def import_handler(path: str) -> Handler:
    module_name, _, attribute = path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise DriverError(f"cannot import handler {path!r}: {exc}") from exc
    if not callable(handler):
        raise DriverError(f"handler {path!r} is not callable")
    return handler


def merged_environment(
    ctx: DriverContext, orchestrator: FunctionSetup, workers: Mapping[str, FunctionSetup]
) -> dict[str, str]:
    variables: dict[str, str] = {}
    if ctx.aws is not None:
        variables.update(ctx.aws.env())
    qualifier = str(ctx.driver_settings.get("worker_qualifier", DEFAULT_QUALIFIER))
    # Fallbacks first, so a deployed configuration (the truth) overrides them.
    for logical, setup in workers.items():
        variables[f"{logical.upper()}_FUNCTION"] = f"{setup.deployed_name}:{qualifier}"
    for logical, name in (ctx.outputs.get(TABLES_OUTPUT) or {}).items():
        variables[f"{logical.upper()}_TABLE"] = str(name)
    for setup in (*workers.values(), orchestrator):
        variables.update({k: str(v) for k, v in setup.environment.items()})
    return variables


@contextlib.contextmanager
def applied_environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def quiet_loggers() -> Iterator[None]:
    """A failed execution is an expected outcome: keep the SDK's stack traces out of the report."""
    saved = {name: logging.getLogger(name).level for name in _QUIET}
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


# --- the driver -------------------------------------------------------------------------------


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    # Like every driver: scenario faults exist on the embedded AWS only (the caller clears them).
    ctx.apply_faults(scenario)
    faults = ctx.aws.faults if ctx.aws is not None else FaultInjector()
    with LocalDurableApp(ctx, faults=faults) as app:
        started = time.perf_counter()
        name = f"{scenario.name}-{uuid.uuid4().hex[:8]}"
        arn = app.start(scenario.input, name)
        outcome = app.wait(arn)
        duration = time.perf_counter() - started
    return to_scenario_result(ctx, scenario.name, arn, outcome, app.calls, duration)


def to_scenario_result(
    ctx: DriverContext,
    scenario: str,
    execution_arn: str,
    outcome: DurableFunctionTestResult,
    calls: list[WorkerCall],
    duration_s: float,
) -> ScenarioResult:
    status = outcome.execution_status.value if outcome.execution_status else outcome.status.value
    result = json.loads(outcome.result) if outcome.result else None
    operations = [describe_operation(op) for op in outcome.operations]
    report = ctx.report
    return ScenarioResult(
        scenario=scenario,
        status=status,
        error=short_error_name(outcome.error.type) if outcome.error else None,
        steps=[step_record(op, report) for op in outcome.operations],
        tables=related_rows(
            table_rows(ctx, report.tables),
            identifiers(result) | {execution_arn},
            report.link_keys,
        ),
        details={
            "execution_arn": execution_arn,
            "result": result,
            "error_message": outcome.error.message if outcome.error else None,
            "operations": operations,
            "virtual_seconds": virtual_seconds(operations),
            "worker_calls": [
                {
                    "function": call.function,
                    "action": call.event.get("action") if isinstance(call.event, dict) else None,
                    "ok": call.ok,
                    "error": call.error_type,
                    "injected": call.injected,
                }
                for call in calls
            ],
        },
        duration_s=duration_s,
    )
