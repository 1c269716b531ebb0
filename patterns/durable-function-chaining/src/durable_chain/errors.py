"""Typed errors of the order chain.

A worker's error reaches the orchestrator as a type name only (a chained invoke carries the error's
type and message, never the exception object), so the orchestrator classifies failures by name
(`error_name`). Renaming a class here changes which failures are retried or final.

- `OrderError` subclasses are business outcomes. They are final: retrying cannot change the answer.
  Most prove the failed step left nothing to undo (no stock taken, no money charged, or the
  compensation already ran); each such outcome names that compensation in `nothing_to_undo`.
- `TransientError` is the retryable "try again later" failure (throttling, timeouts, 5xx). It is
  safe to retry because every worker action is idempotent.
- `CompensationFailedError` and `StepFailedError` are what a failed execution ends with when the
  cause is not a business outcome.
"""

from __future__ import annotations

from typing import ClassVar


class OrderError(Exception):
    """A business outcome that ends the order. Never retried."""

    # The compensation this outcome makes unnecessary, which the orchestrator then drops: the
    # failed step did nothing, or its compensation already ran.
    nothing_to_undo: ClassVar[str | None] = None


class InvalidOrderError(OrderError):
    """The order request is malformed. The same input always fails the same way."""

    PREFIX: ClassVar[str] = "invalid order: "

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(self.PREFIX + "; ".join(self.reasons))

    @classmethod
    def from_message(cls, message: str | None) -> InvalidOrderError:
        """The error again from its message, as a step's failure reports it (type name and text)."""
        return cls((message or "").removeprefix(cls.PREFIX).split("; "))


# Outcomes in the order of the steps that raise them, each naming the compensation it drops.


class DuplicateOrderError(OrderError):
    """The order id already belongs to another execution; this one must not touch that order."""

    nothing_to_undo = "compensate-cancel-order"


class OutOfStockError(OrderError):
    """Not enough stock (or an unknown SKU). The reservation was not written: nothing to release."""

    nothing_to_undo = "compensate-release-inventory"


class ReservationReleasedError(OrderError):
    """A reservation was requested after its release was recorded (a late, duplicate request).

    Nothing was reserved again, and the release already ran."""

    nothing_to_undo = "compensate-release-inventory"


class PaymentDeclinedError(OrderError):
    """The card was declined. Nothing was charged, so there is nothing to refund."""

    nothing_to_undo = "compensate-refund-payment"


class PaymentVoidedError(OrderError):
    """A charge was requested after its refund voided the idempotency key (a late request).

    Nothing was charged again, and the refund already ran."""

    nothing_to_undo = "compensate-refund-payment"


class IdempotencyConflictError(OrderError):
    """An idempotency key was reused for a different order or amount."""

    # An earlier charge of this order under the key may stand (another amount): refund it.
    nothing_to_undo = None


class BadRequestError(Exception):
    """A worker received a request it cannot understand (a bug in the caller). Never retried."""


class TransientError(Exception):
    """A dependency failed in a way that may succeed on retry (throttling, timeouts, 5xx)."""


class CompensationFailedError(Exception):
    """At least one compensation could not complete; the order needs a human."""

    def __init__(self, failed: list[str], original: str) -> None:
        self.failed = list(failed)
        failed_list = ", ".join(self.failed)
        super().__init__(f"compensations failed ({failed_list}) after the order failed: {original}")


class StepFailedError(Exception):
    """A step failed for a reason that is not a business outcome (e.g. its retries ran out)."""


# Outcomes the orchestrator re-raises under their own name, by the name the SDK reports.
BUSINESS_ERRORS: dict[str, type[OrderError]] = {
    cls.__name__: cls
    for cls in (
        DuplicateOrderError,
        OutOfStockError,
        PaymentDeclinedError,
        ReservationReleasedError,
        PaymentVoidedError,
        IdempotencyConflictError,
    )
}


def short_name(error_type: str | None) -> str:
    """`durable_chain.errors.OutOfStockError` -> `OutOfStockError`.

    Locally the SDK reports module-qualified class names, AWS Lambda reports the bare class name;
    service errors such as `Sandbox.Timedout` have no module and stay whole.
    """
    if not error_type:
        return "UnknownError"
    head, _, tail = error_type.rpartition(".")
    # `Sandbox.Timedout`, `ChainedInvoke.Timeout`: a capitalised head is a service namespace.
    if head and head[:1].isupper() and "." not in head:
        return error_type
    return tail
