"""The durable execution SDK's local runner as the catalog runs it: on a virtual clock (waits and
retry backoffs are skipped, not slept), and with no idle poll for a replay to wait out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

# Each invocation ends by stopping its checkpoint batcher, which sees the stop only at its next
# poll of an empty queue: every 0.1 s in the SDK, so the 26 replays of one execution wait 2.6 s for
# nothing. Polled this often, an idle batcher costs a few wake-ups, and a replay no wait.
STOP_POLL_S = 0.01


@contextmanager
def local_runner(handler: Callable[[Any, Any], Any]) -> Iterator[DurableFunctionTestRunner]:
    """`DurableFunctionTestRunner(handler, skip_time=True)`, closed on exit; while it is open the
    SDK's batchers poll for their stop every `STOP_POLL_S` (the SDK's own value comes back)."""
    from aws_durable_execution_sdk_python import state
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

    previous = state._STOP_SIGNAL_POLL_SECONDS
    state._STOP_SIGNAL_POLL_SECONDS = min(previous, STOP_POLL_S)
    try:
        runner = DurableFunctionTestRunner(handler, skip_time=True)
        try:
            yield runner
        finally:
            runner.close()
    finally:
        state._STOP_SIGNAL_POLL_SECONDS = previous
