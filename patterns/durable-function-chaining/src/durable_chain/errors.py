"""Typed errors of the order chain.

A worker's error reaches the orchestrator as a type name only (a chained invoke carries the error's
type and message, never the exception object), so the orchestrator classifies failures by name
(`error_name`). Renaming a class here changes which failures are retried or final.

- `OrderError` subclasses are business outcomes. They are final: retrying cannot change the answer,
  and each one proves the failed step left nothing behind (no stock taken, no money charged).
- `TransientError` is the retryable "try again later" failure (throttling, timeouts, 5xx). It is
  safe to retry because every worker action is idempotent.
- `StepFailedError` and `CompensationFailedError` are what a failed execution ends with when the
  cause is not a business outcome.
"""

from __future__ import annotations


class OrderError(Exception):
    """A business outcome that ends the order. Never retried."""


class InvalidOrderError(OrderError):
    """The order request is malformed. The same input always fails the same way."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("invalid order: " + "; ".join(self.reasons))


class DuplicateOrderError(OrderError):
    """The order id already belongs to another execution; this one must not touch that order."""


class OutOfStockError(OrderError):
    """Not enough stock (or an unknown SKU). The reservation was not written: nothing to release."""


class PaymentDeclinedError(OrderError):
    """The card was declined. Nothing was charged, so there is nothing to refund."""


class ReservationReleasedError(OrderError):
    """A reservation was requested after its release was recorded (a late, duplicate request)."""


class PaymentVoidedError(OrderError):
    """A charge was requested after its refund voided the idempotency key (a late request)."""


class IdempotencyConflictError(OrderError):
    """An idempotency key was reused for a different order or amount."""


class BadRequestError(Exception):
    """A worker received a request it cannot understand (a bug in the caller). Never retried."""


class TransientError(Exception):
    """A dependency failed in a way that may succeed on retry (throttling, timeouts, 5xx)."""


class StepFailedError(Exception):
    """A step failed for a reason that is not a business outcome (e.g. its retries ran out)."""


class CompensationFailedError(Exception):
    """At least one compensation could not complete; the order needs a human."""

    def __init__(self, failed: list[str], original: str) -> None:
        self.failed = list(failed)
        failed_list = ", ".join(self.failed)
        super().__init__(f"compensations failed ({failed_list}) after the order failed: {original}")


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
