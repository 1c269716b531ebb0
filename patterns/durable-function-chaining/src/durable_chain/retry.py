"""Retry policies, one per kind of step, shared by orchestrator steps and worker invokes.

- validation never retries (the same input fails the same way);
- network-type failures retry with exponential backoff and full jitter;
- business outcomes (declined card, out of stock, ...) never retry: only names in `retry_on` do.

Steps use the SDK's own retry strategy (`step_config`). `context.invoke` has no retry option, so
`invoking.call_worker` runs the loop itself with the same numbers; its jittered delay is drawn
inside a step (`jittered_delay`), so a replay reuses the checkpointed delay instead of drawing a
new random value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import (
    RetryPresets,
    RetryStrategyConfig,
    create_retry_strategy,
)

from .errors import TransientError

# Error names (as `errors.short_name` reports them) meaning "the network or a dependency hiccuped".
NETWORK_ERRORS = frozenset(
    {
        "TransientError",
        "ConnectionError",
        "TimeoutError",
        "Sandbox.Timedout",  # the worker ran past its timeout
        "ChainedInvoke.Timeout",
        "TooManyRequestsException",  # Lambda throttled the invoke
        "ServiceException",
        "ResourceConflictException",  # function being updated
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_delay_s: int = 1
    max_delay_s: int = 30
    backoff_rate: float = 2.0
    retry_on: frozenset[str] = frozenset()

    def retries(self, error: str, attempts_made: int) -> bool:
        """Whether a failure named `error` after `attempts_made` attempts gets another attempt."""
        return attempts_made < self.max_attempts and error in self.retry_on

    def ceiling_s(self, attempts_made: int) -> float:
        """Exponential backoff before jitter: initial * rate^(n-1), capped at max_delay_s."""
        return min(
            self.initial_delay_s * self.backoff_rate ** (attempts_made - 1), self.max_delay_s
        )

    def jittered_delay(self, attempts_made: int, rng: random.Random | None = None) -> int:
        """Full jitter: uniform in [0, ceiling], rounded up to whole seconds, at least 1 s
        (durable waits are whole seconds, >= 1)."""
        draw = (rng or random).uniform(0, self.ceiling_s(attempts_made))
        return max(1, math.ceil(draw))

    def step_config(self) -> StepConfig:
        """The same policy for `context.step`: retries only `TransientError` (what step bodies
        raise for network-type failures), exponential backoff, full jitter."""
        if self.max_attempts <= 1:
            return StepConfig(retry_strategy=RetryPresets.none())
        return StepConfig(
            retry_strategy=create_retry_strategy(
                RetryStrategyConfig(
                    max_attempts=self.max_attempts,
                    initial_delay=Duration.from_seconds(self.initial_delay_s),
                    max_delay=Duration.from_seconds(self.max_delay_s),
                    backoff_rate=self.backoff_rate,
                    jitter_strategy=JitterStrategy.FULL,
                    retryable_error_types=[TransientError],
                )
            )
        )


NEVER = RetryPolicy(max_attempts=1)
NETWORK = RetryPolicy(max_attempts=5, initial_delay_s=1, max_delay_s=30, retry_on=NETWORK_ERRORS)
# Compensations must finish: a larger budget for the same (network-type) failures.
COMPENSATION = RetryPolicy(
    max_attempts=10, initial_delay_s=1, max_delay_s=60, retry_on=NETWORK_ERRORS
)
