"""End to end on the embedded AWS: the real definition runs the real handlers.

Every scenario in events/ is run as a driver would run it (seed, faults, input, expect), then the
execution history and the tables are checked.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sfn_saga_e2e import COMPENSATIONS, FORWARD, Saga, load_scenario, scenario_names

CREATE, RESERVE, CHARGE, SHIP = FORWARD
REFUND, RELEASE, CANCEL = COMPENSATIONS

# What each scenario must leave behind, beyond its own `expect`.
EXPECTED: dict[str, dict[str, Any]] = {
    "success": {
        "tasks": FORWARD,
        "order": "SHIPPED",
        "payment": "CHARGED",
        "stock_taken": {"SKU-BOOK": 2, "SKU-PEN": 1},
    },
    "payment-declined": {
        "tasks": [CREATE, RESERVE, CHARGE, RELEASE, CANCEL],
        "order": "CANCELLED",
        "payment": None,
        "stock_taken": {},
    },
    "out-of-stock": {
        "tasks": [CREATE, RESERVE, CANCEL],
        "order": "CANCELLED",
        "payment": None,
        "stock_taken": {},
    },
    "invalid-input": {"tasks": [CREATE], "order": None, "payment": None, "stock_taken": {}},
    "transient-failures": {
        "tasks": FORWARD,
        "order": "SHIPPED",
        "payment": "CHARGED",
        "stock_taken": {"SKU-BOOK": 2, "SKU-PEN": 1},
        "attempts": {CREATE: 1, RESERVE: 3, CHARGE: 2, SHIP: 2},
    },
}


def test_every_scenario_has_expectations():
    assert set(EXPECTED) == set(scenario_names())


def run_scenario(saga: Saga, name: str) -> tuple[dict[str, Any], Any, dict[str, int]]:
    scenario = load_scenario(name)
    saga.seed(scenario.get("seed", {}))
    initial = saga.stock()
    saga.add_faults(scenario.get("faults", []))
    return scenario, saga.run(scenario["input"]), initial


@pytest.mark.parametrize("name", scenario_names())
def test_scenario(saga: Saga, name: str):
    scenario, run, initial = run_scenario(saga, name)
    expected = EXPECTED[name]

    assert run.status == scenario["expect"]["status"], run
    if "error" in scenario["expect"]:
        assert run.error == scenario["expect"]["error"]
    assert run.tasks == expected["tasks"]
    for state, attempts in expected.get("attempts", {}).items():
        assert run.attempts[state] == attempts, (state, run.attempts)

    order = saga.orders().get(scenario["input"]["order_id"])
    assert (order or {}).get("status") == expected["order"]
    payment = saga.payment_of(scenario["input"]["order_id"])
    assert (payment or {}).get("status") == expected["payment"]
    stock = saga.stock()
    for sku, units in initial.items():
        assert stock[sku] == units - expected["stock_taken"].get(sku, 0), sku
    saga.check_invariants(initial, [run])


def test_failed_saga_records_why_the_order_was_cancelled(saga: Saga):
    _, run, _ = run_scenario(saga, "payment-declined")
    order = saga.orders()[run.order_id]
    assert order["cancel_reason"].startswith("PaymentDeclinedError: card declined")
    assert "released_at" in order  # the stock came back
    assert "PaymentDeclinedError" in (run.cause or "")


def test_business_errors_are_never_retried(saga: Saga):
    for name, state in (
        ("invalid-input", CREATE),
        ("out-of-stock", RESERVE),
        ("payment-declined", CHARGE),
    ):
        saga.reset()
        _, run, _ = run_scenario(saga, name)
        assert run.attempts[state] == 1, (name, run.attempts)
    assert saga.aws.retry_sleeps == []


def test_retry_intervals_are_recorded_with_full_jitter_not_slept(saga: Saga):
    _, run, _ = run_scenario(saga, "transient-failures")
    assert run.status == "SUCCEEDED"
    sleeps = list(saga.aws.retry_sleeps)
    # reserve: 2 retries (caps 1 s, 2 s), charge: 1 (1 s), ship: 1 (1 s); FULL jitter draws
    # uniformly below the cap
    assert len(sleeps) == 4
    for slept, cap in zip(sleeps, [1.0, 2.0, 1.0, 1.0], strict=True):
        assert 0.0 <= slept <= cap


def test_lost_charge_response_charges_once(saga: Saga):
    run_scenario(saga, "transient-failures")

    (payment,) = saga.payments()
    assert payment["status"] == "CHARGED" and payment["idempotency_key"].endswith(":charge")
    charges = sorted(
        (i for i in saga.aws.invocations if saga.logical(i.function_name) == "charge-payment"),
        key=lambda i: i.started,
    )
    # the first attempt charged and lost its response; the retry found that charge
    assert [(i.handler_ran, i.injected, i.ok) for i in charges] == [
        (True, "after", False),
        (True, None, True),
    ]
    assert charges[1].result["charge_id"] == payment["charge_id"]


def test_ship_failure_compensates_everything_in_reverse_order(saga: Saga):
    scenario = load_scenario("success")
    saga.seed(scenario["seed"])
    initial = saga.stock()
    saga.aws.faults.add("ship-order", "OrderStateError", "before", 1)

    run = saga.run(scenario["input"])

    assert run.status == "FAILED" and run.error == "OrderStateError"
    assert run.tasks == [*FORWARD, REFUND, RELEASE, CANCEL]
    assert saga.payment_of(run.order_id)["status"] == "REFUNDED"
    assert saga.stock() == initial
    order = saga.orders()[run.order_id]
    assert order["status"] == "CANCELLED" and "refund_id" in order
    saga.check_invariants(initial, [run])


@pytest.mark.parametrize(
    ("function", "tasks"),
    [
        ("create-order", [CREATE, CANCEL]),
        ("reserve-inventory", [CREATE, RESERVE, RELEASE, CANCEL]),
        ("charge-payment", [CREATE, RESERVE, CHARGE, REFUND, RELEASE, CANCEL]),
        ("ship-order", [*FORWARD, REFUND, RELEASE, CANCEL]),
    ],
)
def test_exhausted_retries_after_the_effect_undo_the_step_itself(
    saga: Saga, function: str, tasks: list[str]
):
    """Every attempt ran but every response was lost: the outcome is unknown to the state machine,
    so it compensates the step too, and the compensation finds and undoes the effect."""
    scenario = load_scenario("success")
    saga.seed(scenario["seed"])
    initial = saga.stock()
    saga.aws.faults.add(function, "TransientError", "after", 10)

    run = saga.run(scenario["input"])

    assert run.status == "FAILED" and run.error == "TransientError"
    assert run.tasks == tasks
    assert run.attempts[tasks[len(tasks) - len(run.compensations) - 1]] == 4  # 1 + MaxAttempts 3
    order = saga.orders()[run.order_id]
    assert order["status"] == "CANCELLED"
    assert saga.stock() == initial
    assert (saga.payment_of(run.order_id) or {}).get("status") in (None, "REFUNDED")
    if function in ("charge-payment", "ship-order"):
        assert saga.payment_of(run.order_id)["status"] == "REFUNDED"
    saga.check_invariants(initial, [run])


def test_second_execution_for_the_same_order_is_rejected_and_undoes_nothing(saga: Saga):
    scenario = load_scenario("success")
    saga.seed(scenario["seed"])
    initial = saga.stock()
    first = saga.run(scenario["input"])
    after_first = (saga.stock(), saga.orders(), saga.payments())

    duplicate = saga.run(copy.deepcopy(scenario["input"]))

    assert first.status == "SUCCEEDED"
    assert duplicate.status == "FAILED" and duplicate.error == "DuplicateOrderError"
    assert duplicate.tasks == [CREATE]  # straight to the Fail state: it owns nothing
    assert (saga.stock(), saga.orders(), saga.payments()) == after_first
    saga.check_invariants(initial, [first, duplicate])


def test_a_compensation_that_gives_up_is_reported_and_the_others_still_run(saga: Saga):
    scenario = load_scenario("success")
    saga.seed(scenario["seed"])
    initial = saga.stock()
    saga.aws.faults.add("ship-order", "OrderStateError", "before", 1)
    saga.aws.faults.add("release-inventory", "OrderStateError", "before", 1)  # not retryable

    run = saga.run(scenario["input"])

    assert run.status == "FAILED" and run.error == "CompensationFailed"
    assert run.tasks == [*FORWARD, REFUND, RELEASE, CANCEL]
    assert saga.payment_of(run.order_id)["status"] == "REFUNDED"
    order = saga.orders()[run.order_id]
    assert order["status"] == "CANCELLED"
    # the stock is still held: exactly what the CompensationFailed error asks an operator to fix
    assert "released_at" not in order
    assert saga.stock() == {
        sku: units - {"SKU-BOOK": 2, "SKU-PEN": 1}[sku] for sku, units in initial.items()
    }
