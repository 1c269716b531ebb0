"""Planted defects: a deliberately broken copy of a handler or of the definition runs on the
deployed saga, and the fault-injection tests and invariants must fail, naming what broke.

Each defect is built from a temporary copy of the pattern and swapped into the deployed function
(or state machine) for the test only; the original build is put back afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sfn_saga_e2e import FORWARD, Saga
from test_saga_fault_injection import (
    STOCK,
    absorb_transient_failures,
    order,
    randomized_runs,
    start_with_stock,
)

from catalog.testing import FaultRuns, broken_build

PATTERN_DIR = Path(__file__).resolve().parents[1]

# Every attempt makes a new charge: no lookup of an earlier one, and a key of its own per attempt.
CHARGES_EVERY_ATTEMPT = (
    (r"key = tables\.payment_key\(order_id\)", "key = f\"{tables.payment_key(order_id)}:{uuid.uuid4()}\""),
    (r"existing = payments_table\.get_item\(.*?\)$", "existing: dict[str, Any] = {}"),
    (r"^from decimal import Decimal$", "import uuid\nfrom decimal import Decimal"),
)  # fmt: skip
# The compensation marks the order released but puts no stock back.
RELEASES_NO_STOCK = (
    (
        r'"ExpressionAttributeValues": \{":q": item\.quantity',
        '"ExpressionAttributeValues": {":q": 0',
    ),
)


@contextmanager
def broken(saga: Saga, tmp_path: Path, function: str, *edits: tuple[str, str]) -> Iterator[None]:
    """The deployed `function` runs a copy of its source with `edits` applied."""
    module = f"sfn_saga/functions/{function.replace('-', '_')}.py"
    code, original = broken_build(PATTERN_DIR, tmp_path, function, module, *edits)
    with saga.running(function, code, original):
        yield


def test_charging_on_every_attempt_fails_the_effects_once_test(saga: Saga, tmp_path: Path):
    with (
        broken(saga, tmp_path, "charge-payment", *CHARGES_EVERY_ATTEMPT),
        pytest.raises(AssertionError) as failure,
    ):
        absorb_transient_failures(saga, "charge-payment", "after")
    assert "CHARGED" in str(failure.value), failure.value


def test_charging_on_every_attempt_fails_the_randomized_invariants(saga: Saga, tmp_path: Path):
    with (
        broken(saga, tmp_path, "charge-payment", *CHARGES_EVERY_ATTEMPT),
        pytest.raises(AssertionError) as failure,
    ):
        randomized_runs(saga, FaultRuns(seed=1, runs=60))
    assert "payment rows" in str(failure.value) or "net charges" in str(failure.value)
    assert "replay: CATALOG_FAULT_SEED=1 CATALOG_FAULT_RUNS=" in str(failure.value)


def test_a_release_that_puts_no_stock_back_fails_stock_conservation(saga: Saga, tmp_path: Path):
    initial = start_with_stock(saga, STOCK)
    saga.aws.faults.add("ship-order", "OrderStateError", "before", 1)
    with broken(saga, tmp_path, "release-inventory", *RELEASES_NO_STOCK):
        run = saga.run(order("o-1", [("SKU-A", 2)]))
    problems = saga.invariant_problems(initial, [run])
    assert any("stock of SKU-A not conserved" in p for p in problems), problems


def test_compensations_out_of_order_fail_the_reverse_order_invariant(saga: Saga):
    definition = json.loads(saga.definition())
    states = definition["States"]
    # Release the stock before the refund: ShipOrder's catch goes to ReleaseInventory first.
    states["ShipOrder"]["Catch"][0]["Next"] = "ReleaseInventory"
    for first, then in (("ReleaseInventory", "RefundPayment"), ("RefundPayment", "CancelOrder")):
        states[first]["Next"] = then
        for catch in states[first].get("Catch", []):
            catch["Next"] = then
    assert [c["Next"] for c in states["ShipOrder"]["Catch"]] == ["ReleaseInventory"]
    initial = start_with_stock(saga, STOCK)
    saga.aws.faults.add("ship-order", "OrderStateError", "before", 1)
    with saga.defined_as(json.dumps(definition)):
        run = saga.run(order("o-1", [("SKU-A", 2)]))
    assert run.tasks[: len(FORWARD)] == FORWARD
    problems = saga.invariant_problems(initial, [run])
    assert any("compensations not in reverse order" in p for p in problems), (run, problems)
