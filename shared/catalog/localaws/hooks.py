"""The patches that are not emulator gaps: the in-process invoker, retry-sleep recording and quiet
loggers. Each is applied through `Patches` (or saved and restored) so stop() undoes it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .invoker import InProcessInvoker
from .patching import Patches


def install_invoker(patches: Patches, invoker: InProcessInvoker) -> None:
    """Run every Lambda invocation moto makes (direct, Step Functions, triggers) in-process."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoker(self, event)

    patches.set(LambdaFunction, "_invoke_lambda", _invoke_lambda)


class _RetryClock:
    """Stands in for the `time` module inside moto's Step Functions retrier.

    The retrier calls `time.sleep(interval)` between attempts; when recording is on the interval
    is handed to `record` instead of slept, so retry policies can be asserted in milliseconds.
    """

    def __init__(self, recording: Callable[[], bool], record: Callable[[float], None]) -> None:
        self._recording = recording
        self._record = record

    def sleep(self, seconds: float) -> None:
        if self._recording():
            self._record(float(seconds))
        else:
            time.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)  # anything else the module might use stays real


def install_retry_clock(
    patches: Patches, recording: Callable[[], bool], record: Callable[[float], None]
) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    patches.set(retrier_decl, "time", _RetryClock(recording, record))


# Failed executions log a dump of the whole evaluation (program.py, eval_component.py); the
# execution history already carries the error and cause. Werkzeug logs every request line.
_QUIET_LEVELS = {"moto.stepfunctions.parser": logging.CRITICAL, "werkzeug": logging.WARNING}


def quiet_loggers() -> dict[str, int]:
    """Raise the noisy loggers' levels; returns the previous levels for restore_loggers."""
    previous: dict[str, int] = {}
    for name, level in _QUIET_LEVELS.items():
        logger = logging.getLogger(name)
        previous[name] = logger.level
        logger.setLevel(level)
    return previous


def restore_loggers(previous: dict[str, int]) -> None:
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)
