"""Durable building blocks of the orchestrator: worker calls with retries, and the saga.

`call_worker` is the only way the orchestrator reaches a worker: `context.invoke` on a qualified
name (alias or version), never a boto3 Lambda client. `context.invoke` has no retry option, so each
call is a child context holding its attempts:

    charge-payment            (child context: one entry in the history)
      attempt-1               (invoke: failed with TransientError)
      backoff-delay-1         (step: the jittered delay, drawn once and checkpointed)
      backoff-1               (wait: that many seconds, no compute billed)
      attempt-2               (invoke: succeeded)

Every attempt sends the same payload, built from checkpointed values only, so a worker can
recognise a retry (the payment idempotency key is in it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python import (
    DurableContext,
    DurableOperationError,
    InvokeError,
    StepContext,
)
from aws_durable_execution_sdk_python.config import Duration

from .errors import BUSINESS_ERRORS, StepFailedError, short_name
from .retry import NEVER, RetryPolicy


def error_name(error: DurableOperationError) -> str:
    """The short type name of what escaped a step, invoke or child context."""
    return short_name(error.error_type)


def require_qualified(function_name: str) -> str:
    """Workers are always called through an alias or version (`name:live`, `name:3`, or an ARN
    ending in one), so an orchestrator version calls the worker versions it was released with."""
    name = function_name.rsplit(":function:", 1)[-1]
    if ":" not in name or not name.split(":", 1)[1]:
        raise ValueError(f"worker function {function_name!r} must be qualified (alias or version)")
    return function_name


def _draw_delay(policy: RetryPolicy, attempts_made: int, _: StepContext) -> int:
    return policy.jittered_delay(attempts_made)


def call_worker(
    context: DurableContext,
    name: str,
    function_name: str,
    payload: dict[str, Any],
    policy: RetryPolicy,
) -> Any:
    """Invoke `function_name` with `payload`, retrying as `policy` says. Raises the worker's
    business error (e.g. `PaymentDeclinedError`) or `StepFailedError`, wrapped by the SDK in a
    `ChildContextError` whose `error_type` names it."""
    target = require_qualified(function_name)

    def attempts(child: DurableContext) -> Any:
        attempt = 1
        while True:
            try:
                return child.invoke(target, payload, name=f"attempt-{attempt}")
            except InvokeError as error:
                cause = error_name(error)
                if not policy.retries(cause, attempt):
                    business = BUSINESS_ERRORS.get(cause)
                    if business is not None:
                        raise business(error.message or cause) from None
                    raise StepFailedError(f"{name} failed with {cause}: {error.message}") from None
            delay = child.step(
                functools.partial(_draw_delay, policy, attempt),
                name=f"backoff-delay-{attempt}",
                config=NEVER.step_config(),
            )
            child.wait(Duration.from_seconds(delay), name=f"backoff-{attempt}")
            attempt += 1

    return context.run_in_child_context(attempts, name=name)


@dataclass
class Saga:
    """Compensations registered as the order progresses, run newest first on failure.

    A compensation is registered BEFORE its step runs, because a step can fail after its side
    effect happened (the response was lost). Each compensation is idempotent and copes with
    "nothing to undo". When a step fails with a business outcome that leaves nothing to undo
    (out of stock, card declined: `OrderError.nothing_to_undo`), its compensation is dropped
    (`discard`).
    """

    context: DurableContext
    _stack: list[tuple[str, Callable[[DurableContext, str], Any]]] = field(default_factory=list)

    def register(self, name: str, undo: Callable[[DurableContext, str], Any]) -> None:
        self._stack.append((name, undo))

    def discard(self, name: str) -> None:
        self._stack = [entry for entry in self._stack if entry[0] != name]

    @property
    def pending(self) -> list[str]:
        return [name for name, _ in reversed(self._stack)]

    def compensate(self, reason: str) -> list[str]:
        """Run every compensation in reverse order, each its own durable operation, telling it
        why the order failed. One failing does not stop the others; the failed ones are returned."""
        failed: list[str] = []
        for name, undo in reversed(self._stack):
            try:
                undo(self.context, reason)
            except DurableOperationError as error:  # never SuspendExecution: not an Exception
                self.context.logger.error(
                    "compensation failed", extra={"compensation": name, "error": str(error)}
                )
                failed.append(f"{name} ({error_name(error)})")
        self._stack.clear()
        return failed
