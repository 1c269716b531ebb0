"""Typed errors of the saga.

Step Functions sees a Lambda error as the exception's class name (`errorType`), and the state
machine definition matches on those names: renaming a class here means changing `saga.asl.json`.

- Business outcomes (`InvalidOrderError`, `DuplicateOrderError`, `OutOfStockError`,
  `PaymentDeclinedError`, `OrderStateError`) are final: retrying cannot change the answer.
- `TransientError` is the only retryable error a handler raises itself: a dependency was throttled,
  timed out or was briefly unavailable, and the step is safe to run again because every step is
  idempotent.
"""

from __future__ import annotations


class SagaError(Exception):
    """Base class of every error a saga step raises on purpose."""


class InvalidOrderError(SagaError):
    """The order request is malformed. Never retried: the same input fails the same way."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("invalid order: " + "; ".join(self.reasons))


class DuplicateOrderError(SagaError):
    """The order id already belongs to another saga execution; this one must not touch it."""


class OutOfStockError(SagaError):
    """Not enough stock for at least one item (or the SKU is unknown). Nothing was reserved."""


class PaymentDeclinedError(SagaError):
    """The payment provider declined the card. Nothing was charged or recorded."""


class OrderStateError(SagaError):
    """The order is not in a state that allows this step (e.g. shipping an order never charged)."""


class TransientError(SagaError):
    """A dependency failed in a way that may succeed on retry (throttling, timeouts, 5xx)."""
