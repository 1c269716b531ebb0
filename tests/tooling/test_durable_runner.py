"""`catalog.drivers.durable_runner`: the SDK's local runner on a virtual clock, whose checkpoint
batchers poll for their stop often enough that a replay does not wait out the SDK's 0.1 s poll."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import state
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution

from catalog.drivers.durable_runner import STOP_POLL_S, local_runner


@durable_execution
def _two_steps(event: Any, context: DurableContext) -> dict[str, int]:
    first = context.step(lambda _: event["n"] + 1, name="first")
    second = context.step(lambda _: first * 2, name="second")
    return {"result": second}


def test_the_poll_is_short_while_the_runner_is_open_and_the_sdk_value_comes_back() -> None:
    sdk_value = state._STOP_SIGNAL_POLL_SECONDS
    assert sdk_value > STOP_POLL_S  # the SDK's own poll is what the runner shortens
    with local_runner(_two_steps) as runner:
        assert state._STOP_SIGNAL_POLL_SECONDS == STOP_POLL_S
        result = runner.run(input='{"n": 4}', execution_timeout=30)
    assert sdk_value == state._STOP_SIGNAL_POLL_SECONDS
    assert result.status.value == "SUCCEEDED"
    assert result.result == '{"result": 10}'


def test_the_sdk_value_comes_back_when_the_run_fails() -> None:
    sdk_value = state._STOP_SIGNAL_POLL_SECONDS
    try:
        with local_runner(_two_steps):
            raise RuntimeError("the caller failed")
    except RuntimeError:
        pass
    assert sdk_value == state._STOP_SIGNAL_POLL_SECONDS
