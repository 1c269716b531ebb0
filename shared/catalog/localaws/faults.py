"""Fault injection for in-process Lambda invocations (scenario `faults` and randomized tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Phase = Literal["before", "after"]
# (function_name, event, phase) -> error name to inject, or None.
FaultPolicy = Callable[[str, Any, str], "str | None"]

_PHASES: tuple[str, ...] = ("before", "after")


@dataclass
class Fault:
    """One scripted fault: `error` is raised `times` more times for `function` at `when`."""

    function: str
    error: str
    when: Phase = "before"
    times: int = 1
    message: str | None = None

    def matches(self, function_name: str) -> bool:
        # Deployed names carry a prefix (`sfn-saga-charge-payment`); scenarios use the bare one.
        return function_name == self.function or function_name.endswith("-" + self.function)


@dataclass(frozen=True)
class InjectedFault:
    """What the invoker raises in place of the handler's outcome."""

    error: str
    message: str


class FaultInjector:
    """Thread-safe: Step Functions runs branches and the server runs requests concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._policy: FaultPolicy | None = None

    def add(
        self,
        function: str,
        error: str,
        when: Phase = "before",
        times: int = 1,
        message: str | None = None,
    ) -> None:
        if when not in _PHASES:
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        if times < 1:
            raise ValueError(f"times must be >= 1, not {times}")
        if not function or not error:
            raise ValueError("function and error must be non-empty")
        with self._lock:
            self._faults.append(Fault(function, error, when, times, message))

    def set_policy(self, fn: FaultPolicy | None) -> None:
        """Consulted for every invocation phase no scripted fault claimed; None removes it."""
        with self._lock:
            self._policy = fn

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._policy = None

    def remaining(self) -> list[Fault]:
        """Scripted faults not yet used up (a scenario can assert they all fired)."""
        with self._lock:
            return [Fault(f.function, f.error, f.when, f.times, f.message) for f in self._faults]

    def take(self, function_name: str, event: Any, phase: Phase) -> InjectedFault | None:
        """The fault to inject now, if any; consumes one use of a scripted fault."""
        with self._lock:
            for fault in self._faults:
                if fault.when == phase and fault.matches(function_name):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    message = fault.message or _default_message(fault.error, phase)
                    return InjectedFault(fault.error, message)
            policy = self._policy
        # Call the policy outside the lock: it is user code and may be slow or re-enter.
        if policy is None:
            return None
        error = policy(function_name, event, phase)
        if error is None:
            return None
        return InjectedFault(error, _default_message(error, phase))


def _default_message(error: str, phase: str) -> str:
    if phase == "after":
        return f"Injected {error} after the handler ran (response lost)"
    return f"Injected {error} before the handler ran"
