"""The orchestrator and its workers end to end under the durable SDK's local runner, needing only
src/, its requirements, the SDK's testing package, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py), so a user of the exported folder can run it. The runner replays the orchestrator
with a virtual clock; its `context.invoke` calls reach the workers' handlers in-process, and the
tables are in-process moto.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from durable_chain import tables
from durable_chain.functions import inventory, notification, orchestrator, payment, shipping
from moto import mock_aws

REGION = "us-east-1"
# One string hash key per table, as the IaC declares them; each named by environment variable.
KEYS = {
    tables.ORDERS_TABLE: "order_id",
    tables.INVENTORY_TABLE: "sku",
    tables.PAYMENTS_TABLE: "idempotency_key",
}
WORKERS = {
    "INVENTORY_FUNCTION": inventory,
    "PAYMENT_FUNCTION": payment,
    "SHIPPING_FUNCTION": shipping,
    "NOTIFICATION_FUNCTION": notification,
}
ORDER: dict[str, Any] = {
    "customer_id": "cust-42",
    "customer_email": "ana@example.com",
    "currency": "USD",
    "items": [
        {"sku": "SKU-BOOK", "quantity": 2, "unit_price_cents": 1250},
        {"sku": "SKU-PEN", "quantity": 1, "unit_price_cents": 199},
    ],
    "payment": {"token": "tok_visa"},
    "shipping_address": {
        "name": "Ana Silva",
        "line1": "1 Main St",
        "city": "Seattle",
        "postal_code": "98101",
        "country": "US",
    },
    "settlement_seconds": 3600,
}


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
        item = self.tables[tables.INVENTORY_TABLE].get_item(Key={"sku": sku})["Item"]
        return int(item["stock"])

    def orders(self) -> list[dict[str, Any]]:
        return list(self.tables[tables.ORDERS_TABLE].scan()["Items"])

    def payments(self) -> list[dict[str, Any]]:
        return list(self.tables[tables.PAYMENTS_TABLE].scan()["Items"])


@pytest.fixture
def chain(monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    """Fresh tables on in-process moto, stock seeded; the workers bound under qualified names."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    suffix = uuid.uuid4().hex[:8]
    # In the catalog's suite moto's backends may hold a deployed stack: never reset them, use
    # tables of our own and delete them afterwards.
    mock = mock_aws(config={"core": {"reset_boto3_session": False}})
    mock.start(reset=False)
    created: dict[str, Any] = {}
    runner = DurableFunctionTestRunner(orchestrator.handler, skip_time=True)
    try:
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        for env_name, key in KEYS.items():
            monkeypatch.setenv(env_name, f"standalone-{suffix}-{key}")
            created[env_name] = dynamodb.create_table(
                TableName=f"standalone-{suffix}-{key}",
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        tables.reset_clients()
        created[tables.INVENTORY_TABLE].put_item(Item={"sku": "SKU-BOOK", "stock": 5})
        created[tables.INVENTORY_TABLE].put_item(Item={"sku": "SKU-PEN", "stock": 10})
        for variable, worker in WORKERS.items():
            qualified = f"standalone-{variable.split('_')[0].lower()}:live"
            monkeypatch.setenv(variable, qualified)
            runner.register_function(qualified, worker.handler)
        yield Chain(runner, created)
    finally:
        runner.close()
        for table in created.values():
            table.delete()
        mock.stop(remove_data=False)
        tables.reset_clients()


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
