"""Every scenario in events/, through the catalog's own path (`catalog run` does the same): seed
the deployed tables, run the `durable_local` driver, compare with the scenario's expectation."""

from __future__ import annotations

from typing import Any

import pytest
from dfc_harness import Chain, invariant_problems

from catalog.deploy import expectation_problems, run_scenario
from catalog.patterns import load

PATTERN = load("durable-function-chaining")
SEEDED = {"SKU-BOOK": 5, "SKU-PEN": 10}


def stock(rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {r["sku"]: r["stock"] for r in rows["inventory"] if r.get("record") != "reservation"}


def names(result: Any, kind: str | None = None) -> list[str]:
    return [s.name for s in result.steps if kind is None or s.kind == kind]


def attempts(result: Any) -> dict[str, int]:
    return {s.name: s.attempts for s in result.steps}


@pytest.fixture
def deployment(chain: Chain, dfc_deployment: Any) -> Any:
    chain.clear()  # the scenario's own seed writes the stock
    return dfc_deployment


# The compensations each scenario must run, in this order (reverse of the steps they undo).
COMPENSATIONS = {
    "success": [],
    "transient-failures": [],
    "invalid-input": [],
    "out-of-stock": ["compensate-cancel-order"],
    "payment-declined": ["compensate-release-inventory", "compensate-cancel-order"],
}


def test_every_scenario_has_its_compensations_listed() -> None:
    assert set(COMPENSATIONS) == set(PATTERN.scenarios)


@pytest.mark.parametrize("name", sorted(PATTERN.scenarios))
def test_scenario_meets_its_expectation(name: str, deployment: Any, chain: Chain) -> None:
    scenario = PATTERN.scenarios[name]
    result = run_scenario(deployment, scenario)
    assert expectation_problems(scenario, result) == []
    assert invariant_problems(chain.snapshot(), SEEDED) == []
    # The report lists operations with attempts; compensations are marked as such, in order.
    assert all(s.attempts >= 1 for s in result.steps)
    assert names(result, "compensation") == COMPENSATIONS[name]
    assert result.compensations == COMPENSATIONS[name]


def test_success_runs_the_chain_in_order_on_a_virtual_clock(deployment: Any, chain: Chain) -> None:
    result = run_scenario(deployment, PATTERN.scenarios["success"])
    assert names(result) == [
        "validate-order",
        "assign-order-id",
        "create-order",
        "reserve-inventory",
        "payment-idempotency-key",
        "charge-payment",
        "create-shipment",
        "settlement-period",
        "send-confirmation",
        "complete-order",
    ]
    assert set(attempts(result).values()) == {1}
    kinds = {s.name: s.kind for s in result.steps}
    assert [kinds["reserve-inventory"], kinds["payment-idempotency-key"]] == ["invoke", "step"]
    assert kinds["settlement-period"] == "wait"
    # The one-hour settlement wait passed on the runner's clock, not the wall clock.
    assert result.details["virtual_seconds"] >= 3600
    assert result.duration_s < 30
    rows = chain.snapshot()
    assert stock(rows) == {"SKU-BOOK": 3, "SKU-PEN": 9}
    assert [o["status"] for o in rows["orders"]] == ["COMPLETED"]
    assert [(p["status"], p["amount_cents"]) for p in rows["payments"]] == [("CHARGED", 2699)]
    assert result.details["result"]["status"] == "COMPLETED"


def test_declined_card_is_not_retried_and_not_refunded(deployment: Any, chain: Chain) -> None:
    result = run_scenario(deployment, PATTERN.scenarios["payment-declined"])
    assert attempts(result)["charge-payment"] == 1
    assert result.compensations == ["compensate-release-inventory", "compensate-cancel-order"]
    rows = chain.snapshot()
    assert stock(rows) == SEEDED
    assert [p["status"] for p in rows["payments"]] == ["DECLINED"]
    assert [o["status"] for o in rows["orders"]] == ["CANCELLED"]


def test_out_of_stock_is_not_retried_and_only_cancels(deployment: Any, chain: Chain) -> None:
    result = run_scenario(deployment, PATTERN.scenarios["out-of-stock"])
    assert attempts(result)["reserve-inventory"] == 1
    assert result.compensations == ["compensate-cancel-order"]
    rows = chain.snapshot()
    assert stock(rows) == SEEDED
    assert rows["payments"] == []


def test_invalid_input_fails_validation_once_and_writes_nothing(
    deployment: Any, chain: Chain
) -> None:
    result = run_scenario(deployment, PATTERN.scenarios["invalid-input"])
    assert [(s.name, s.attempts, s.ok) for s in result.steps] == [("validate-order", 1, False)]
    assert "customer_id: Field required" in result.details["error_message"]
    rows = chain.snapshot()
    assert rows["orders"] == [] and rows["payments"] == []


def test_transient_failures_are_absorbed_by_retries(deployment: Any, chain: Chain) -> None:
    result = run_scenario(deployment, PATTERN.scenarios["transient-failures"])
    assert result.status == "SUCCEEDED"
    counted = attempts(result)
    assert (counted["reserve-inventory"], counted["charge-payment"]) == (3, 2)
    assert (counted["create-shipment"], counted["send-confirmation"]) == (2, 2)
    rows = chain.snapshot()
    # The charge ran twice (its first response was lost) with ONE key: one payment record.
    charges = [
        c
        for c in result.details["worker_calls"]
        if c["action"] == "charge" and c["injected"] != "before"
    ]
    assert len(charges) == 2
    assert [p["status"] for p in rows["payments"]] == ["CHARGED"]
    assert stock(rows) == {"SKU-BOOK": 3, "SKU-PEN": 9}
