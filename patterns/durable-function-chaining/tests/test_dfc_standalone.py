"""The orchestrator and its workers end to end under the durable SDK's local runner, needing only
src/, its requirements, the SDK's testing package, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py; `moto_aws` comes from the plugin catalog.moto_fixtures, which the export carries), so
a user of the exported folder can run it. The runner replays the orchestrator with a virtual
clock; its `context.invoke` calls reach the workers' handlers in-process, and the tables are
in-process moto.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from dfc_orders import KEYS, STOCK, order
from durable_chain import tables
from durable_chain.functions import inventory, notification, orchestrator, payment, shipping

WORKERS = {
    "INVENTORY_FUNCTION": inventory,
    "PAYMENT_FUNCTION": payment,
    "SHIPPING_FUNCTION": shipping,
    "NOTIFICATION_FUNCTION": notification,
}
ORDER = order()


@dataclass
class Chain:
    runner: DurableFunctionTestRunner
    tables: dict[str, Any]

    def run(self, order: dict[str, Any]) -> Any:
        arn = self.runner.run_async(
            input=json.dumps(order),
            execution_timeout=300,
            function_name="standalone-orchestrator",
            execution_name=f"run-{uuid.uuid4().hex[:12]}",
        )
        return self.runner.wait_for_result(arn, timeout=60)

    def stock(self, sku: str) -> int:
        item = self.tables["inventory"].get_item(Key={"sku": sku})["Item"]
        return int(item["stock"])

    def orders(self) -> list[dict[str, Any]]:
        return list(self.tables["orders"].scan()["Items"])

    def payments(self) -> list[dict[str, Any]]:
        return list(self.tables["payments"].scan()["Items"])


@pytest.fixture
def chain(moto_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    """Tables of their own on in-process moto (the `moto_aws` fixture), stock seeded; the workers
    bound under qualified names."""
    created = moto_aws.tables(KEYS)
    tables.reset_clients()
    moto_aws.on_teardown(tables.reset_clients)
    for sku, stock in STOCK.items():
        created["inventory"].put_item(Item={"sku": sku, "stock": stock})
    runner = DurableFunctionTestRunner(orchestrator.handler, skip_time=True)
    try:
        for variable, worker in WORKERS.items():
            qualified = f"standalone-{variable.split('_')[0].lower()}:live"
            monkeypatch.setenv(variable, qualified)
            runner.register_function(qualified, worker.handler)
        yield Chain(runner, created)
    finally:
        runner.close()


def steps(result: Any) -> list[str]:
    return [operation.name for operation in result.operations]


def test_an_order_runs_every_step_and_completes(chain: Chain) -> None:
    result = chain.run(ORDER)

    assert result.status.name == "SUCCEEDED", result.error
    output = json.loads(result.result)
    assert output["status"] == "COMPLETED" and output["total_cents"] == 2699
    assert steps(result)[-4:] == [
        "create-shipment",
        "settlement-period",
        "send-confirmation",
        "complete-order",
    ]
    assert chain.stock("SKU-BOOK") == 3 and chain.stock("SKU-PEN") == 9
    [order] = chain.orders()
    assert order["status"] == "COMPLETED" and order["tracking_id"] == output["tracking_id"]
    assert [p["status"] for p in chain.payments()] == ["CHARGED"]


def test_a_declined_card_gives_the_stock_back_and_charges_nothing(chain: Chain) -> None:
    result = chain.run({**ORDER, "payment": {"token": "tok_declined"}})

    assert result.status.name == "FAILED"
    assert "PaymentDeclinedError" in json.dumps(result.error.to_dict())
    assert chain.stock("SKU-BOOK") == 5 and chain.stock("SKU-PEN") == 10  # released
    assert "CHARGED" not in {p["status"] for p in chain.payments()}
    assert [o["status"] for o in chain.orders()] == ["CANCELLED"]


def test_too_little_stock_fails_before_any_charge(chain: Chain) -> None:
    wanted = [{"sku": "SKU-PEN", "quantity": 11, "unit_price_cents": 199}]
    result = chain.run({**ORDER, "items": wanted})

    assert result.status.name == "FAILED"
    assert "OutOfStockError" in json.dumps(result.error.to_dict())
    assert "charge-payment" not in steps(result)
    assert chain.stock("SKU-PEN") == 10 and chain.payments() == []


def test_an_invalid_order_touches_no_table(chain: Chain) -> None:
    result = chain.run({**ORDER, "items": []})

    assert result.status.name == "FAILED"
    assert "InvalidOrderError" in json.dumps(result.error.to_dict())
    assert chain.orders() == [] and chain.payments() == []
