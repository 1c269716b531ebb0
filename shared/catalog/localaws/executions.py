"""Step Functions executions ending, as events: a caller waits on moto's execution worker instead
of polling DescribeExecution (each poll is an HTTP request that competes with the execution for
the interpreter)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from .patching import Patches


class ExecutionEnds:
    """The ARNs of the executions that have left RUNNING since the last `clear()`.

    moto's execution worker calls `terminated()` once the program has ended and its last history
    event is written; the patch records the ARN there, after the status is set, so an ARN seen
    here already describes as SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    """

    def __init__(self) -> None:
        self._ended: set[str] = set()
        self._changed = threading.Condition()

    def install(self, patches: Patches) -> None:
        from moto.stepfunctions.parser.backend.execution import (
            BaseExecutionWorkerCommunication,
        )

        original = BaseExecutionWorkerCommunication.terminated
        ends = self

        def terminated(comm: Any) -> None:
            try:
                original(comm)
            finally:
                ends.ended(str(comm.execution.exec_arn))

        patches.set(BaseExecutionWorkerCommunication, "terminated", terminated)

    def ended(self, arn: str) -> None:
        with self._changed:
            self._ended.add(arn)
            self._changed.notify_all()

    def wait(self, arns: Iterable[str], timeout: float) -> list[str]:
        """Block until every execution in `arns` has ended or `timeout` seconds have passed;
        returns those still running (empty: all ended)."""
        pending = set(arns)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                pending -= self._ended
                remaining = deadline - time.monotonic()
                if not pending or remaining <= 0:
                    return sorted(pending)
                self._changed.wait(remaining)

    def clear(self) -> None:
        with self._changed:
            self._ended.clear()
