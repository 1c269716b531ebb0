"""The saga's paths through its handlers, needing only src/, its requirements, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py), so a user of the exported folder can run it. Each test calls the handlers in the
order the state machine does, with the inputs it passes, against in-process moto.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_saga import tables
from sfn_saga.errors import OutOfStockError, PaymentDeclinedError
from sfn_saga.functions import (
    cancel_order,
    charge_payment,
    create_order,
    ship_order,
)
from sfn_saga.functions import (
    release_inventory as release,
)
from sfn_saga.functions import (
    reserve_inventory as reserve,
)

REGION = "us-east-1"
# Every table has one string hash key (as the IaC declares it), named by environment variable.
KEYS = {
    tables.ORDERS_TABLE_ENV: "order_id",
    tables.INVENTORY_TABLE_ENV: "sku",
    tables.PAYMENTS_TABLE_ENV: "idempotency_key",
}
SAGA = "arn:aws:states:us-east-1:123456789012:execution:saga:standalone"
ITEMS = [{"sku": "SKU-BOOK", "quantity": 2}, {"sku": "SKU-PEN", "quantity": 1}]
ORDER = {
    "order_id": "order-standalone",
    "customer_id": "cust-1",
    "items": [
        {"sku": "SKU-BOOK", "quantity": 2, "unit_price": "12.50"},
        {"sku": "SKU-PEN", "quantity": 1, "unit_price": "1.99"},
    ],
    "payment": {"token": "tok_visa"},
}


@dataclass
class Context:
    """What the handlers (and Powertools) read from the Lambda context."""

    function_name: str = "stepfunctions-saga-standalone"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:stepfunctions-saga-standalone"
    )
    memory_limit_in_mb: int = 128
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Tables:
    orders: Any
    inventory: Any
    payments: Any

    def stock(self, sku: str) -> int:
        return int(self.inventory.get_item(Key={"sku": sku})["Item"]["stock"])

    def order(self) -> dict[str, Any]:
        return self.orders.get_item(Key={"order_id": ORDER["order_id"]}).get("Item", {})


@pytest.fixture
def saga(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:
    """In-process moto with the three tables (fresh names), stock seeded, handler env set."""
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
        saga = Tables(*(created[env_name] for env_name in KEYS))
        saga.inventory.put_item(Item={"sku": "SKU-BOOK", "stock": 5})
        saga.inventory.put_item(Item={"sku": "SKU-PEN", "stock": 3})
        yield saga
    finally:
        for table in created.values():
            table.delete()
        mock.stop(remove_data=False)
        tables.reset_clients()


def forward(token: str = "tok_visa", attempts: int = 1) -> list[dict[str, Any]]:
    """CreateOrder -> ReserveInventory -> ChargePayment -> ShipOrder, each given what it needs;
    with `attempts` > 1 each step runs again right away, as after a lost response."""
    ctx, order_id = Context(), ORDER["order_id"]
    steps = [
        lambda: create_order.handler({"order": ORDER, "saga_id": SAGA}, ctx),
        lambda: reserve.handler({"order_id": order_id, "items": ITEMS}, ctx),
        lambda: charge_payment.handler(
            {"order_id": order_id, "amount": "26.99", "token": token}, ctx
        ),
        lambda: ship_order.handler({"order_id": order_id}, ctx),
    ]
    results = []
    for step in steps:
        outcomes = [step() for _ in range(attempts)]
        results.append(outcomes[-1])
    return results


def test_a_paid_order_is_reserved_charged_once_and_shipped(saga: Tables) -> None:
    created, reserved, charged, shipped = forward()

    assert created["amount"] == "26.99"
    assert reserved["reservation"] == "SKU-BOOK:2|SKU-PEN:1"
    assert shipped == {
        "order_id": ORDER["order_id"],
        "status": "SHIPPED",
        "tracking_id": f"TRK-{ORDER['order_id']}",
    }
    assert saga.stock("SKU-BOOK") == 3 and saga.stock("SKU-PEN") == 2
    payments = saga.payments.scan()["Items"]
    assert [(p["status"], p["charge_id"]) for p in payments] == [("CHARGED", charged["charge_id"])]
    assert saga.order()["status"] == "SHIPPED"


def test_every_step_retried_after_a_lost_response_changes_nothing(saga: Tables) -> None:
    created, reserved, charged, shipped = forward(attempts=3)

    assert reserved["already_reserved"] is True  # the second and third attempts saw the first
    assert created["status"] == "PENDING" and shipped["status"] == "SHIPPED"
    assert saga.stock("SKU-BOOK") == 3 and saga.stock("SKU-PEN") == 2
    payments = saga.payments.scan()["Items"]
    assert [p["charge_id"] for p in payments] == [charged["charge_id"]]  # charged once


def test_a_declined_card_releases_the_reservation_and_cancels_the_order(saga: Tables) -> None:
    ctx, order_id = Context(), ORDER["order_id"]
    with pytest.raises(PaymentDeclinedError):
        forward(token="tok_declined")
    assert saga.stock("SKU-BOOK") == 3  # reserved before the charge failed

    released = release.handler({"order_id": order_id, "items": ITEMS}, ctx)
    error = {"Error": "PaymentDeclinedError", "Cause": '{"errorMessage": "card declined"}'}
    cancelled = cancel_order.handler({"order_id": order_id, "saga_id": SAGA, "error": error}, ctx)

    assert released["already_released"] is False and cancelled["cancelled"] is True
    assert saga.stock("SKU-BOOK") == 5 and saga.stock("SKU-PEN") == 3
    assert saga.order()["status"] == "CANCELLED"
    assert not [p for p in saga.payments.scan()["Items"] if p.get("status") == "CHARGED"]


def test_too_little_stock_reserves_nothing(saga: Tables) -> None:
    saga.inventory.put_item(Item={"sku": "SKU-PEN", "stock": 0})
    create_order.handler({"order": ORDER, "saga_id": SAGA}, Context())

    with pytest.raises(OutOfStockError, match="SKU-PEN"):
        reserve.handler({"order_id": ORDER["order_id"], "items": ITEMS}, Context())
    assert saga.stock("SKU-BOOK") == 5  # all or nothing: the book was not taken either
