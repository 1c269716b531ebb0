"""In-process Lambda invoker: runs the deployed handler in place of moto's Docker runner.

moto calls `LambdaFunction._invoke_lambda(event)` for direct invokes, Step Functions tasks, stream
and queue triggers alike, and expects `(payload, errored, logs)`. This module answers that with the
real handler, a Lambda-like context, the function's environment (per thread), fault injection and
an invocation record.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import environ, output
from .codeload import CodeLoader, LoadError
from .faults import FaultInjector, InjectedFault
from .shims import log_group_of


@dataclass(frozen=True)
class Invocation:
    """One in-process Lambda invocation, as recorded in `LocalAws.invocations`."""

    function_name: str
    event: Any
    request_id: str
    ok: bool
    error_type: str | None
    error_message: str | None
    # "before"/"after" when the outcome was an injected fault, else None.
    injected: str | None
    handler_ran: bool
    started: float  # time.monotonic()
    ended: float
    started_at: datetime  # wall clock, UTC
    ended_at: datetime
    result: Any = field(default=None, compare=False)

    @property
    def duration(self) -> float:
        return self.ended - self.started


@dataclass
class LambdaContext:
    """The attributes handlers (and Powertools) read from the Lambda context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_s: float
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @classmethod
    def for_function(
        cls, function_name: str, memory_mb: int = 128, timeout_s: float = 10.0
    ) -> LambdaContext:
        """The context of an invocation outside any server (handler unit tests): the same
        attributes the invoker sets, for a function in the embedded AWS's account."""
        return cls(
            function_name=function_name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
            memory_limit_in_mb=memory_mb,
            aws_request_id="00000000-0000-0000-0000-000000000000",
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name="local",
            timeout_s=timeout_s,
        )


@dataclass
class _Outcome:
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    stack: list[str] = field(default_factory=list)
    injected: str | None = None
    handler_ran: bool = False
    output: list[str] = field(default_factory=list)  # what the handler printed or logged

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def fail(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        self.error_type, self.error_message, self.stack = error_type, message, stack or []

    def inject(self, fault: InjectedFault, phase: str) -> None:
        # Shaped exactly like a handler exception of that class name.
        self.fail(fault.error, fault.message, [f'  File "<fault-injection>", in {phase}\n'])
        self.injected = phase
        self.payload = None


class InProcessInvoker:
    """Callable installed as `LambdaFunction._invoke_lambda` (bound through a small wrapper)."""

    def __init__(
        self,
        faults: FaultInjector,
        record: Callable[[Invocation], None],
    ) -> None:
        self.faults = faults
        self.loader = CodeLoader()
        self._record = record
        self._lock = threading.Lock()

    def close(self) -> None:
        self.loader.close()

    def __call__(self, function: Any, event: Any = None) -> tuple[str, bool, str]:
        event = _normalise_event(event)
        name = str(function.function_name)
        request_id = str(uuid.uuid4())
        log_group = log_group_of(function)
        started_at, started = datetime.now(UTC), time.monotonic()
        log_stream = f"{started_at:%Y/%m/%d}/[{_version(function)}]{request_id.replace('-', '')}"
        recorded_event = _snapshot(event)

        outcome = _Outcome()
        fault = self.faults.take(name, event, "before")
        if fault is not None:
            outcome.inject(fault, "before")
        else:
            self._run(function, event, request_id, log_group, log_stream, outcome)
            if outcome.ok:
                fault = self.faults.take(name, event, "after")
                if fault is not None:
                    outcome.inject(fault, "after")

        ended_at, ended = datetime.now(UTC), time.monotonic()
        payload = _response_payload(outcome, request_id)
        logs = _log_lines(request_id, function, outcome, ended - started)
        with self._lock:  # moto's log backend is not thread-safe when creating a group
            _write_logs(function, log_group, log_stream, logs)
        self._record(
            Invocation(
                function_name=name,
                event=recorded_event,
                request_id=request_id,
                ok=outcome.ok,
                error_type=outcome.error_type,
                error_message=outcome.error_message,
                injected=outcome.injected,
                handler_ran=outcome.handler_ran,
                started=started,
                ended=ended,
                started_at=started_at,
                ended_at=ended_at,
                result=outcome.payload if outcome.ok else None,
            )
        )
        return payload, not outcome.ok, "\n".join(logs)

    def _run(
        self,
        function: Any,
        event: Any,
        request_id: str,
        log_group: str,
        log_stream: str,
        outcome: _Outcome,
    ) -> None:
        if not str(function.run_time or "").startswith("python"):
            outcome.fail("Catalog.UnsupportedRuntime", f"runtime {function.run_time} not emulated")
            return
        try:
            task_root = self.loader.extract(function)
        except LoadError as exc:
            outcome.fail(exc.error_type, str(exc))
            return
        variables = _function_environment(function, log_group, log_stream)
        variables["LAMBDA_TASK_ROOT"] = str(task_root)
        with environ.overlay(variables), output.capture() as printed:
            self._call(function, event, request_id, log_group, log_stream, outcome)
        outcome.output = printed.getvalue().splitlines()

    def _call(
        self,
        function: Any,
        event: Any,
        request_id: str,
        log_group: str,
        log_stream: str,
        outcome: _Outcome,
    ) -> None:
        try:
            # Import inside the overlay: module-level code reads the function's variables.
            handler = self.loader.load(function)
        except LoadError as exc:
            outcome.fail(exc.error_type, str(exc))
            return
        context = LambdaContext(
            function_name=str(function.function_name),
            function_version=_version(function),
            invoked_function_arn=str(function.function_arn),
            memory_limit_in_mb=int(function.memory_size),
            aws_request_id=request_id,
            log_group_name=log_group,
            log_stream_name=log_stream,
            timeout_s=float(function.timeout or 3),
        )
        outcome.handler_ran = True
        try:
            with self.loader.running(function):
                outcome.payload = handler(event, context)
        except SystemExit as exc:
            outcome.fail("Runtime.ExitError", f"RequestId: {request_id} Error: exit {exc.code}")
        except Exception as exc:
            # Skip this frame: the trace starts in the handler, as on Lambda.
            frames = exc.__traceback__.tb_next if exc.__traceback__ else None
            outcome.fail(type(exc).__name__, str(exc), traceback.format_tb(frames))


def _normalise_event(event: Any) -> Any:
    # moto passes the parsed JSON body, or the string "{}" when the body was empty.
    if event is None or event == "{}":
        return {}
    return event


def _snapshot(event: Any) -> Any:
    try:
        return copy.deepcopy(event)
    except Exception:
        return event


def _version(function: Any) -> str:
    return str(function.version)  # "$LATEST", or the number of a published version


def _function_environment(function: Any, log_group: str, log_stream: str) -> dict[str, str]:
    variables = {key: str(value) for key, value in (function.environment_vars or {}).items()}
    # Reserved variables the Lambda runtime sets; they win over user-defined ones, as on AWS.
    variables.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": str(function.function_name),
            "AWS_LAMBDA_FUNCTION_VERSION": _version(function),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_REGION": str(function.region),
            "AWS_DEFAULT_REGION": str(function.region),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
            "_HANDLER": str(function.handler),
        }
    )
    return variables


def _response_payload(outcome: _Outcome, request_id: str) -> str:
    if outcome.ok:
        try:
            return json.dumps(outcome.payload)
        except (TypeError, ValueError) as exc:
            outcome.fail("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return json.dumps(
        {
            "errorMessage": outcome.error_message,
            "errorType": outcome.error_type,
            "requestId": request_id,
            "stackTrace": outcome.stack,
        }
    )


def _log_lines(request_id: str, function: Any, outcome: _Outcome, seconds: float) -> list[str]:
    lines = [f"START RequestId: {request_id} Version: {_version(function)}", *outcome.output]
    if not outcome.ok:
        error = {"errorMessage": outcome.error_message, "errorType": outcome.error_type}
        lines.append(f"[ERROR] {json.dumps(error)}")
    lines.append(f"END RequestId: {request_id}")
    lines.append(
        f"REPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\t"
        f"Memory Size: {function.memory_size} MB"
    )
    return lines


def _write_logs(function: Any, log_group: str, log_stream: str, lines: list[str]) -> None:
    # Like Lambda, create the log group on first use: a pattern that does not manage its log
    # group then leaves one behind, and the inventory after destroy shows it.
    logs = function.logs_backend
    timestamp = int(time.time() * 1000)
    try:
        logs.ensure_log_group(log_group)
        logs.create_log_stream(log_group, log_stream)
        logs.put_log_events(
            log_group, log_stream, [{"timestamp": timestamp, "message": line} for line in lines]
        )
    except Exception:  # best effort: a log group deleted mid-invocation must not fail the call
        return
