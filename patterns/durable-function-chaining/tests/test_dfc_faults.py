"""Retries and fault injection: attempts counted per step, backoff with full jitter on the virtual
clock, and a failure at every operation (before and after its side effect) leaving a fully
compensated order behind."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from dfc_harness import STOCK, Chain, Outcome, invariant_problems, order
from durable_chain import orders
from durable_chain.errors import TransientError
from durable_chain.functions import orchestrator
from durable_chain.retry import NETWORK

ALL_COMPENSATIONS = [
    "compensate-cancel-shipment",
    "compensate-refund-payment",
    "compensate-release-inventory",
    "compensate-cancel-order",
]


def assert_fully_compensated(chain: Chain, outcome: Outcome) -> None:
    assert outcome.status == "FAILED"
    assert all(op.ok for op in outcome.compensations), outcome.compensations
    assert invariant_problems(chain.snapshot(), STOCK, [outcome]) == []


# --- retries ---------------------------------------------------------------------------------


def test_attempts_and_backoff_are_recorded_per_step(chain: Chain) -> None:
    started = time.perf_counter()
    outcome = chain.run(order(), faults=[("inventory", "TransientError", "before", 4)])
    assert outcome.status == "SUCCEEDED"
    reserve = outcome.op("reserve-inventory")
    assert reserve.attempts == 5  # the whole budget: 4 failures, then success
    assert [c.type for c in reserve.children] == ["CHAINED_INVOKE", "STEP", "WAIT"] * 4 + [
        "CHAINED_INVOKE"
    ]
    for n in range(1, 5):
        delay_step = next(c for c in reserve.children if c.name == f"backoff-delay-{n}")
        wait = next(c for c in reserve.children if c.name == f"backoff-{n}")
        delay = json.loads(delay_step.raw.result)
        # Full jitter: anywhere in [1, ceiling], the ceiling doubling per attempt.
        assert 1 <= delay <= max(1, math.ceil(NETWORK.ceiling_s(n)))
        assert wait.start and wait.end
        assert (wait.end - wait.start).total_seconds() >= delay  # on the virtual clock
    assert time.perf_counter() - started < 30  # nothing slept for real


def test_network_errors_beyond_the_budget_fail_and_compensate(chain: Chain) -> None:
    outcome = chain.run(order(), faults=[("inventory", "TransientError", "before", 5)])
    assert outcome.error == "StepFailedError"
    assert "reserve-inventory failed with TransientError" in (outcome.message or "")
    assert outcome.op("reserve-inventory").attempts == 5
    assert [op.name for op in outcome.compensations] == [
        "compensate-release-inventory",
        "compensate-cancel-order",
    ]
    assert_fully_compensated(chain, outcome)


@pytest.mark.parametrize("error", ["OutOfStockError", "ValueError", "BadRequestError"])
def test_non_network_errors_are_never_retried(chain: Chain, error: str) -> None:
    outcome = chain.run(order(), faults=[("inventory", error, "before", 1)])
    assert outcome.op("reserve-inventory").attempts == 1
    assert len(outcome.calls_to("inventory", "reserve")) == 1
    assert_fully_compensated(chain, outcome)


@pytest.mark.parametrize(
    ("worker", "error", "undo_runs"),
    [
        ("inventory", "OutOfStockError", False),
        ("inventory", "ReservationReleasedError", False),
        ("payment", "PaymentDeclinedError", False),
        ("payment", "PaymentVoidedError", False),
        ("payment", "IdempotencyConflictError", True),
    ],
)
def test_an_outcome_drops_only_the_compensation_it_makes_unnecessary(
    chain: Chain, worker: str, error: str, undo_runs: bool
) -> None:
    outcome = chain.run(order(), faults=[(worker, error, "before", 1)])
    assert outcome.error == error
    undo = {"inventory": "release", "payment": "refund"}[worker]
    assert bool(outcome.calls_to(worker, undo)) is undo_runs
    assert_fully_compensated(chain, outcome)


def test_declined_card_is_charged_once_only(chain: Chain) -> None:
    outcome = chain.run(order(payment={"token": "tok_declined_do_not_honour"}))
    assert outcome.error == "PaymentDeclinedError"
    assert len(outcome.calls_to("payment", "charge")) == 1
    assert outcome.calls_to("payment", "refund") == []


def test_orchestrator_steps_retry_transient_errors(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = {"left": 2}

    def flaky_create(*args: Any) -> str:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise TransientError("DynamoDB throttled")
        return orders.create_order(*args)

    monkeypatch.setattr(orchestrator, "create_order", flaky_create)
    outcome = chain.run(order())
    assert outcome.status == "SUCCEEDED"
    assert outcome.op("create-order").attempts == 3


def test_validation_never_retries(chain: Chain) -> None:
    outcome = chain.run(order(customer_id=""))
    assert outcome.error == "InvalidOrderError"
    assert [(op.name, op.attempts) for op in outcome.ops] == [("validate-order", 1)]


# --- a failure at every operation ------------------------------------------------------------

# (worker, action that fails, compensations expected, in the order they must run)
WORKER_OPERATIONS = [
    ("inventory", "reserve", ["compensate-release-inventory", "compensate-cancel-order"]),
    (
        "payment",
        "charge",
        ["compensate-refund-payment", "compensate-release-inventory", "compensate-cancel-order"],
    ),
    ("shipping", "create", ALL_COMPENSATIONS),
    ("notification", "send", ALL_COMPENSATIONS),
]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("worker", "action", "expected"), WORKER_OPERATIONS)
def test_a_permanent_failure_at_every_worker_call_is_compensated(
    chain: Chain, worker: str, action: str, expected: list[str], when: str
) -> None:
    """`after`: the worker's side effect happened (stock taken, card charged) and its response was
    lost; the compensation registered before the call still undoes it."""
    outcome = chain.run(order(), faults=[(worker, "PermanentError", when, 1)])
    assert outcome.error == "StepFailedError"
    assert [op.name for op in outcome.compensations] == expected
    assert_fully_compensated(chain, outcome)
    rows = chain.snapshot()
    if (worker, when) == ("payment", "after"):
        assert [p["status"] for p in rows["payments"]] == ["REFUNDED"]
    if (worker, when) == ("payment", "before"):
        assert [p["status"] for p in rows["payments"]] == ["VOIDED"]


def _failing(original: Callable[..., Any], *, after: bool) -> Callable[..., Any]:
    def step_body(*args: Any) -> Any:
        if after:
            original(*args)  # the side effect happens, then the step fails
        raise RuntimeError("the step failed")

    return step_body


@pytest.mark.parametrize(
    ("target", "after", "expected"),
    [
        ("mint_order_id", False, []),
        ("create_order", False, ["compensate-cancel-order"]),
        ("create_order", True, ["compensate-cancel-order"]),
        (
            "mint_idempotency_key",
            False,
            ["compensate-release-inventory", "compensate-cancel-order"],
        ),
        ("complete_order", False, ALL_COMPENSATIONS),
        ("complete_order", True, ALL_COMPENSATIONS),
    ],
)
def test_a_failure_at_every_orchestrator_step_is_compensated(
    chain: Chain, monkeypatch: pytest.MonkeyPatch, target: str, after: bool, expected: list[str]
) -> None:
    monkeypatch.setattr(orchestrator, target, _failing(getattr(orchestrator, target), after=after))
    outcome = chain.run(order())
    assert outcome.error == "StepFailedError"
    assert [op.name for op in outcome.compensations] == expected
    assert_fully_compensated(chain, outcome)


def test_a_failing_compensation_does_not_stop_the_others(chain: Chain) -> None:
    def policy(function: str, event: Any, phase: str) -> str | None:
        if function.endswith("-notification") and phase == "before":
            return "PermanentError"
        if function.endswith("-inventory") and event.get("action") == "release":
            return "PermanentError"
        return None

    outcome = chain.run(order(), policy=policy)
    assert outcome.error == "CompensationFailedError"
    assert "compensate-release-inventory" in (outcome.message or "")
    assert [(op.name, op.ok) for op in outcome.compensations] == [
        ("compensate-cancel-shipment", True),
        ("compensate-refund-payment", True),
        ("compensate-release-inventory", False),
        ("compensate-cancel-order", True),
    ]
    rows = chain.snapshot()
    assert [p["status"] for p in rows["payments"]] == ["REFUNDED"]
    assert [o["status"] for o in rows["orders"]] == ["CANCELLED"]


def test_compensations_retry_network_errors(chain: Chain) -> None:
    lost: Counter[str] = Counter()

    def policy(function: str, event: Any, phase: str) -> str | None:
        action = event.get("action")
        if function.endswith("-shipping") and action == "create" and phase == "before":
            return "PermanentError"
        refund = function.endswith("-payment") and action == "refund" and phase == "after"
        if refund and lost["refund"] < 3:  # the refund happens, its response is lost three times
            lost["refund"] += 1
            return "TransientError"
        return None

    outcome = chain.run(order(), policy=policy)
    assert outcome.op("compensate-refund-payment").attempts == 4
    assert len(outcome.calls_to("payment", "refund")) == 4
    assert_fully_compensated(chain, outcome)
    assert [p["status"] for p in chain.snapshot()["payments"]] == ["REFUNDED"]


# --- the crash between the payment's side effect and its checkpoint ---------------------------


def test_lost_payment_response_is_retried_with_the_same_key_one_charge(chain: Chain) -> None:
    outcome = chain.run(order(), faults=[("payment", "TransientError", "after", 2)])
    assert outcome.status == "SUCCEEDED"
    charges = outcome.calls_to("payment", "charge")
    assert [c.injected for c in charges] == ["after", "after", None]
    assert all(c.handler_ran for c in charges)  # the charge code ran three times...
    keys = {c.event["idempotency_key"] for c in charges}
    assert len(keys) == 1  # ...with the key minted once, in its own step
    rows = chain.snapshot()
    assert len(rows["payments"]) == 1  # ...and charged once
    payment_row = rows["payments"][0]
    assert payment_row["idempotency_key"] in keys and payment_row["status"] == "CHARGED"
    assert outcome.result and outcome.result["payment_id"] == payment_row["payment_id"]
