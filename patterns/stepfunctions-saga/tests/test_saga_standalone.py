"""The saga's paths through its handlers, needing only src/, its requirements, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py; `moto_aws` and `lambda_context` come from the plugin catalog.moto_fixtures, which the
export carries), so a user of the exported folder can run it. Each test calls the handlers in the
order the state machine does, with the inputs it passes, against in-process moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
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

# Every table has one string hash key (as the IaC declares it).
KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
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
class Tables:
    orders: Any
    inventory: Any
    payments: Any
    context: Any

    def stock(self, sku: str) -> int:
        return int(self.inventory.get_item(Key={"sku": sku})["Item"]["stock"])

    def order(self) -> dict[str, Any]:
        return self.orders.get_item(Key={"order_id": ORDER["order_id"]}).get("Item", {})


@pytest.fixture
def saga(moto_aws: Any, lambda_context: Any) -> Tables:
    """In-process moto (the `moto_aws` fixture) with the three tables under names of their own,
    stock seeded, handler env set."""
    saga = Tables(**moto_aws.tables(KEYS), context=lambda_context)
    tables.reset_clients()
    moto_aws.on_teardown(tables.reset_clients)
    saga.inventory.put_item(Item={"sku": "SKU-BOOK", "stock": 5})
    saga.inventory.put_item(Item={"sku": "SKU-PEN", "stock": 3})
    return saga


def forward(saga: Tables, token: str = "tok_visa", attempts: int = 1) -> list[dict[str, Any]]:
    """CreateOrder -> ReserveInventory -> ChargePayment -> ShipOrder, each given what it needs;
    with `attempts` > 1 each step runs again right away, as after a lost response."""
    ctx, order_id = saga.context, ORDER["order_id"]
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
    created, reserved, charged, shipped = forward(saga)

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
    created, reserved, charged, shipped = forward(saga, attempts=3)

    assert reserved["already_reserved"] is True  # the second and third attempts saw the first
    assert created["status"] == "PENDING" and shipped["status"] == "SHIPPED"
    assert saga.stock("SKU-BOOK") == 3 and saga.stock("SKU-PEN") == 2
    payments = saga.payments.scan()["Items"]
    assert [p["charge_id"] for p in payments] == [charged["charge_id"]]  # charged once


def test_a_declined_card_releases_the_reservation_and_cancels_the_order(saga: Tables) -> None:
    ctx, order_id = saga.context, ORDER["order_id"]
    with pytest.raises(PaymentDeclinedError):
        forward(saga, token="tok_declined")
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
    create_order.handler({"order": ORDER, "saga_id": SAGA}, saga.context)

    with pytest.raises(OutOfStockError, match="SKU-PEN"):
        reserve.handler({"order_id": ORDER["order_id"], "items": ITEMS}, saga.context)
    assert saga.stock("SKU-BOOK") == 5  # all or nothing: the book was not taken either
