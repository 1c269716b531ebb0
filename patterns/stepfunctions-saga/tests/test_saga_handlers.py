"""Unit tests of each handler, in-process against moto (no state machine involved)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from sfn_saga import payments, tables
from sfn_saga.errors import (
    DuplicateOrderError,
    InvalidOrderError,
    OrderStateError,
    OutOfStockError,
    PaymentDeclinedError,
    TransientError,
)
from sfn_saga.functions import (
    cancel_order,
    charge_payment,
    create_order,
    refund_payment,
    release_inventory,
    reserve_inventory,
    ship_order,
)

SAGA = "arn:aws:states:us-east-1:123456789012:execution:saga:run-1"
OTHER_SAGA = "arn:aws:states:us-east-1:123456789012:execution:saga:run-2"

ORDER: dict[str, Any] = {
    "order_id": "order-1",
    "customer_id": "cust-1",
    "items": [
        {"sku": "SKU-BOOK", "quantity": 2, "unit_price": 12.5},
        {"sku": "SKU-PEN", "quantity": 1, "unit_price": "1.99"},
    ],
    "payment": {"token": "tok_visa"},
}
STOCK_ITEMS = [{"sku": "SKU-BOOK", "quantity": 2}, {"sku": "SKU-PEN", "quantity": 1}]


def seed_stock(saga_tables: dict[str, Any], **stock: int) -> None:
    for sku, units in stock.items():
        saga_tables["inventory"].put_item(Item={"sku": sku.replace("_", "-"), "stock": units})


def stock_of(saga_tables: dict[str, Any], sku: str) -> int:
    return int(saga_tables["inventory"].get_item(Key={"sku": sku})["Item"]["stock"])


def order_row(saga_tables: dict[str, Any], order_id: str = "order-1") -> dict[str, Any]:
    return saga_tables["orders"].get_item(Key={"order_id": order_id}).get("Item", {})


def payment_row(saga_tables: dict[str, Any], order_id: str = "order-1") -> dict[str, Any] | None:
    key = tables.payment_key(order_id)
    return saga_tables["payments"].get_item(Key={"idempotency_key": key}).get("Item")


def create(ctx: Any, order: dict[str, Any] | None = None, saga: str = SAGA) -> dict[str, Any]:
    return create_order.handler({"order": order or ORDER, "saga_id": saga}, ctx)


def reserve(ctx: Any, order_id: str = "order-1", items: Any = None) -> dict[str, Any]:
    return reserve_inventory.handler({"order_id": order_id, "items": items or STOCK_ITEMS}, ctx)


def charge(ctx: Any, token: str = "tok_visa", amount: str = "26.99") -> dict[str, Any]:
    return charge_payment.handler({"order_id": "order-1", "amount": amount, "token": token}, ctx)


def release(ctx: Any, items: Any = None) -> dict[str, Any]:
    return release_inventory.handler({"order_id": "order-1", "items": items or STOCK_ITEMS}, ctx)


def up_to_reserved(saga_tables: dict[str, Any], ctx: Any) -> None:
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    create(ctx)
    reserve(ctx)


# ------------------------------------------------------------------------------ create-order


def test_create_order_records_pending_order_with_computed_amount(saga_tables, lambda_context):
    result = create(lambda_context)

    assert result["status"] == "PENDING"
    assert result["amount"] == "26.99"  # 2 x 12.50 + 1.99, exact decimal arithmetic
    assert result["payment"] == {"token": "tok_visa", "amount": "26.99"}
    assert result["items"][1] == {"sku": "SKU-PEN", "quantity": 1, "unit_price": "1.99"}
    row = order_row(saga_tables)
    assert row["status"] == "PENDING"
    assert row["saga_id"] == SAGA
    assert row["amount"] == Decimal("26.99")
    assert "payment_token" not in row and "tok_visa" not in str(row)  # tokens stay out of tables


def test_create_order_accepts_a_matching_amount_and_rejects_a_wrong_one(
    saga_tables, lambda_context
):
    good = copy.deepcopy(ORDER) | {"payment": {"token": "tok_visa", "amount": 26.99}}
    assert create(lambda_context, good)["amount"] == "26.99"

    bad = copy.deepcopy(ORDER) | {"order_id": "order-2", "payment": {"token": "t", "amount": 5}}
    with pytest.raises(InvalidOrderError, match=r"does not match the items total 26\.99"):
        create(lambda_context, bad)
    assert order_row(saga_tables, "order-2") == {}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"order_id": None}, "order.order_id: Input should be a valid string"),
        ({"order_id": "has space"}, "order.order_id: String should match pattern"),
        ({"customer_id": ""}, "order.customer_id: String should match pattern"),
        ({"items": []}, "order.items: Tuple should have at least 1 item"),
        ({"items": "SKU-BOOK"}, "order.items: Input should be a valid tuple"),
        (
            {"items": [{"sku": "A", "quantity": 0, "unit_price": 1}]},
            r"items\[0\]\.quantity: Input should be greater than 0",
        ),
        (
            {"items": [{"sku": "A", "quantity": 1.5, "unit_price": 1}]},
            r"items\[0\]\.quantity: Input should be a valid integer",
        ),
        (
            {"items": [{"sku": "A", "quantity": True, "unit_price": 1}]},
            "quantity: Input should be a valid integer",
        ),
        (
            {"items": [{"sku": "A", "quantity": 1, "unit_price": -1}]},
            "unit_price: Input should be greater than or equal to 0",
        ),
        (
            {"items": [{"sku": "A", "quantity": 1, "unit_price": 0.001}]},
            "unit_price: Decimal input should have no more than 2 decimal places",
        ),
        (
            {"items": [{"sku": "A", "quantity": 1, "unit_price": "abc"}]},
            "unit_price: Input should be a valid decimal",
        ),
        ({"items": [{"sku": "A", "quantity": 1}]}, "unit_price: Field required"),
        ({"items": [{"quantity": 1, "unit_price": 1}]}, r"items\[0\]\.sku: Field required"),
        (
            {"items": [{"sku": "A", "quantity": 1, "unit_price": 1}] * 2},
            "order.items: sku A appears more than once",
        ),
        (
            {"items": [{"sku": f"S{i}", "quantity": 1, "unit_price": 1} for i in range(26)]},
            "at most 25 items",
        ),
        ({"payment": None}, "order.payment: Input should be a valid dictionary"),
        ({"payment": {"token": "  "}}, "order.payment.token: the token must not be blank"),
        (
            {"payment": {"token": "t", "amount": -3}},
            "order.payment.amount: Input should be greater than or equal to 0",
        ),
    ],
)
def test_create_order_rejects_invalid_input(saga_tables, lambda_context, change, reason):
    order = copy.deepcopy(ORDER) | change
    with pytest.raises(InvalidOrderError, match=reason):
        create(lambda_context, order)
    assert saga_tables["orders"].scan()["Items"] == []  # nothing written


def test_create_order_reports_every_reason_at_once(saga_tables, lambda_context):
    with pytest.raises(InvalidOrderError) as raised:
        create(lambda_context, {"items": [{"sku": "A", "quantity": -1}]})
    reasons = raised.value.reasons
    assert len(reasons) >= 4
    assert any("order_id" in r for r in reasons) and any("payment" in r for r in reasons)


@pytest.mark.parametrize("event", [[], "order", {"saga_id": SAGA}, {"order": ORDER}])
def test_create_order_needs_the_state_machine_envelope(saga_tables, lambda_context, event):
    with pytest.raises(InvalidOrderError):
        create_order.handler(event, lambda_context)


def test_create_order_retry_of_the_same_saga_is_idempotent(saga_tables, lambda_context):
    first = create(lambda_context)
    created_at = order_row(saga_tables)["created_at"]

    assert create(lambda_context) == first  # the response of the first attempt was lost
    assert order_row(saga_tables)["created_at"] == created_at


def test_create_order_refuses_an_order_id_owned_by_another_saga(saga_tables, lambda_context):
    create(lambda_context)
    other = copy.deepcopy(ORDER) | {"customer_id": "cust-2"}
    with pytest.raises(DuplicateOrderError):
        create(lambda_context, other, saga=OTHER_SAGA)
    row = order_row(saga_tables)
    assert row["saga_id"] == SAGA and row["customer_id"] == "cust-1"


# ------------------------------------------------------------------------------ reserve-inventory


def test_reserve_decrements_every_sku_and_marks_the_order(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    create(lambda_context)

    result = reserve(lambda_context)

    assert result == {
        "order_id": "order-1",
        "reservation": "SKU-BOOK:2|SKU-PEN:1",
        "already_reserved": False,
    }
    assert stock_of(saga_tables, "SKU-BOOK") == 3 and stock_of(saga_tables, "SKU-PEN") == 2
    row = order_row(saga_tables)
    assert row["status"] == "RESERVED" and row["reservation"] == "SKU-BOOK:2|SKU-PEN:1"


def test_reserve_retry_after_success_does_not_decrement_twice(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)

    assert reserve(lambda_context)["already_reserved"] is True
    assert reserve(lambda_context)["already_reserved"] is True
    assert stock_of(saga_tables, "SKU-BOOK") == 3 and stock_of(saga_tables, "SKU-PEN") == 2


def test_reserve_retry_succeeds_even_when_the_stock_is_now_gone(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    saga_tables["inventory"].put_item(Item={"sku": "SKU-BOOK", "stock": 0})

    assert reserve(lambda_context)["already_reserved"] is True  # the units are already ours


def test_reserve_is_all_or_nothing_when_one_sku_is_short(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=0)
    create(lambda_context)

    with pytest.raises(OutOfStockError, match="SKU-PEN: wanted 1, available 0"):
        reserve(lambda_context)

    assert stock_of(saga_tables, "SKU-BOOK") == 5  # the BOOK decrement was rolled back
    assert stock_of(saga_tables, "SKU-PEN") == 0
    row = order_row(saga_tables)
    assert row["status"] == "PENDING" and "reserved_at" not in row


def test_reserve_of_an_unknown_sku_is_out_of_stock(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5)
    create(lambda_context)
    with pytest.raises(OutOfStockError, match="SKU-PEN: wanted 1, unknown SKU"):
        reserve(lambda_context)
    assert stock_of(saga_tables, "SKU-BOOK") == 5
    assert "Item" not in saga_tables["inventory"].get_item(Key={"sku": "SKU-PEN"})


def test_reserve_sells_the_last_units_exactly_once(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=3)
    outcomes = []
    for n in range(6):
        order = copy.deepcopy(ORDER) | {
            "order_id": f"order-{n}",
            "items": [{"sku": "SKU-BOOK", "quantity": 1, "unit_price": 1}],
        }
        create(lambda_context, order)
        try:
            reserve(lambda_context, f"order-{n}", [{"sku": "SKU-BOOK", "quantity": 1}])
            outcomes.append("reserved")
        except OutOfStockError:
            outcomes.append("out")
    assert outcomes == ["reserved"] * 3 + ["out"] * 3
    assert stock_of(saga_tables, "SKU-BOOK") == 0


def test_reserve_refuses_a_missing_order_and_touches_no_stock(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    with pytest.raises(OrderStateError, match="does not exist"):
        reserve(lambda_context, "order-404")
    assert stock_of(saga_tables, "SKU-BOOK") == 5


def test_reserve_refuses_an_order_whose_reservation_was_released(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    release(lambda_context)
    with pytest.raises(OrderStateError, match="already released"):
        reserve(lambda_context)
    assert stock_of(saga_tables, "SKU-BOOK") == 5


# ------------------------------------------------------------------------------ charge-payment


@pytest.fixture
def provider_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts calls to the simulated payment provider."""
    calls: list[str] = []
    real_charge = payments.charge

    def counting_charge(token: str, amount: Decimal, key: str) -> str:
        calls.append(key)
        return real_charge(token, amount, key)

    monkeypatch.setattr(payments, "charge", counting_charge)
    return calls


def test_charge_records_one_payment_under_the_order_key(
    saga_tables, lambda_context, provider_calls, monkeypatch
):
    up_to_reserved(saga_tables, lambda_context)
    monkeypatch.setattr(tables, "now", lambda: "2026-01-02T03:04:05.678+00:00")

    result = charge(lambda_context)

    assert result["idempotency_key"] == "order-1:charge"
    assert result["charge_id"].startswith("ch_")
    assert payment_row(saga_tables) == {
        "idempotency_key": "order-1:charge",
        "order_id": "order-1",
        "amount": Decimal("26.99"),
        "status": "CHARGED",
        "charge_id": result["charge_id"],
        "charged_at": "2026-01-02T03:04:05.678+00:00",
    }
    row = order_row(saga_tables)
    assert row["status"] == "CHARGED" and row["payment_key"] == "order-1:charge"
    assert provider_calls == ["order-1:charge"]


def test_charge_retry_returns_the_first_result_and_never_charges_twice(
    saga_tables, lambda_context, provider_calls
):
    up_to_reserved(saga_tables, lambda_context)
    first = charge(lambda_context)

    assert charge(lambda_context) == first
    assert charge(lambda_context) == first
    assert provider_calls == ["order-1:charge"]
    assert len(saga_tables["payments"].scan()["Items"]) == 1


def test_charge_race_between_two_attempts_keeps_one_record(
    saga_tables, lambda_context, monkeypatch
):
    """Two attempts both miss the read; the conditional put lets only one record exist."""
    up_to_reserved(saga_tables, lambda_context)
    real_charge = payments.charge

    def racing_charge(token: str, amount: Decimal, key: str) -> str:
        charge_id = real_charge(token, amount, key)
        saga_tables["payments"].put_item(  # the other attempt commits first
            Item={
                "idempotency_key": key,
                "order_id": "order-1",
                "amount": amount,
                "status": "CHARGED",
                "charge_id": charge_id,
                "charged_at": "earlier",
            }
        )
        return charge_id

    monkeypatch.setattr(payments, "charge", racing_charge)
    result = charge(lambda_context)

    assert payment_row(saga_tables)["charged_at"] == "earlier"
    assert result["charge_id"] == payment_row(saga_tables)["charge_id"]


def test_declined_card_is_not_recorded_as_charged(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)

    with pytest.raises(PaymentDeclinedError):
        charge(lambda_context, token=payments.DECLINED_TOKEN)

    assert payment_row(saga_tables) is None
    assert order_row(saga_tables)["status"] == "RESERVED"


def test_unavailable_provider_is_a_transient_error(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    with pytest.raises(TransientError):
        charge(lambda_context, token=payments.UNAVAILABLE_TOKEN)
    assert payment_row(saga_tables) is None


def test_charge_refuses_a_different_amount_for_the_same_key(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    charge(lambda_context)
    with pytest.raises(OrderStateError, match=r"was charged 26\.99, not 1\.00"):
        charge(lambda_context, amount="1.00")


def test_charge_refuses_a_refunded_payment(saga_tables, lambda_context, provider_calls):
    up_to_reserved(saga_tables, lambda_context)
    charge(lambda_context)
    refund_payment.handler({"order_id": "order-1"}, lambda_context)
    with pytest.raises(OrderStateError, match="REFUNDED"):
        charge(lambda_context)
    assert provider_calls == ["order-1:charge"]


@pytest.mark.parametrize(
    "event",
    [
        {"order_id": "order-1", "amount": "1.00"},
        {"order_id": "order-1", "token": "tok_visa"},
        {"order_id": "order-1", "amount": "-1", "token": "tok_visa"},
    ],
)
def test_charge_rejects_malformed_events(saga_tables, lambda_context, event):
    with pytest.raises(InvalidOrderError):
        charge_payment.handler(event, lambda_context)


# ------------------------------------------------------------------------------ ship-order


def test_ship_marks_a_charged_order_shipped_and_is_idempotent(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    charge(lambda_context)

    first = ship_order.handler({"order_id": "order-1"}, lambda_context)
    shipped_at = order_row(saga_tables)["shipped_at"]
    again = ship_order.handler({"order_id": "order-1"}, lambda_context)

    assert (
        first == again == {"order_id": "order-1", "status": "SHIPPED", "tracking_id": "TRK-order-1"}
    )
    assert order_row(saga_tables)["shipped_at"] == shipped_at


@pytest.mark.parametrize("stage", ["missing", "pending", "reserved", "cancelled"])
def test_ship_refuses_an_order_not_charged(saga_tables, lambda_context, stage):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    if stage != "missing":
        create(lambda_context)
    if stage == "reserved":
        reserve(lambda_context)
    if stage == "cancelled":
        cancel_order.handler({"order_id": "order-1", "saga_id": SAGA}, lambda_context)
    with pytest.raises(OrderStateError, match="only CHARGED can ship"):
        ship_order.handler({"order_id": "order-1"}, lambda_context)


# ------------------------------------------------------------------------------ refund-payment


def test_refund_without_a_charge_is_a_no_op(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    result = refund_payment.handler({"order_id": "order-1"}, lambda_context)
    assert result == {"order_id": "order-1", "refunded": False, "reason": "no charge"}
    assert payment_row(saga_tables) is None
    assert "refunded_at" not in order_row(saga_tables)


def test_refund_refunds_a_charge_once(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    charge(lambda_context)

    first = refund_payment.handler({"order_id": "order-1"}, lambda_context)
    refunded_at = payment_row(saga_tables)["refunded_at"]
    second = refund_payment.handler({"order_id": "order-1"}, lambda_context)

    assert first["refunded"] is second["refunded"] is True
    assert first["refund_id"] == second["refund_id"] and first["refund_id"].startswith("re_")
    payment = payment_row(saga_tables)
    assert payment["status"] == "REFUNDED" and payment["refunded_at"] == refunded_at
    assert order_row(saga_tables)["refund_id"] == first["refund_id"]


# ------------------------------------------------------------------------------ release-inventory


def test_release_gives_back_exactly_the_reservation_once(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)

    assert release(lambda_context)["already_released"] is False
    assert stock_of(saga_tables, "SKU-BOOK") == 5 and stock_of(saga_tables, "SKU-PEN") == 3
    assert release(lambda_context)["already_released"] is True
    assert stock_of(saga_tables, "SKU-BOOK") == 5 and stock_of(saga_tables, "SKU-PEN") == 3
    assert "released_at" in order_row(saga_tables)


def test_release_without_a_reservation_is_a_no_op(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    create(lambda_context)
    assert release(lambda_context) == {
        "order_id": "order-1",
        "released": False,
        "reason": "no reservation",
    }
    assert (
        release_inventory.handler({"order_id": "nope", "items": STOCK_ITEMS}, lambda_context)[
            "released"
        ]
        is False
    )
    assert stock_of(saga_tables, "SKU-BOOK") == 5 and stock_of(saga_tables, "SKU-PEN") == 3


def test_release_refuses_items_that_differ_from_the_reservation(saga_tables, lambda_context):
    up_to_reserved(saga_tables, lambda_context)
    with pytest.raises(OrderStateError, match="holds reservation"):
        release(lambda_context, [{"sku": "SKU-BOOK", "quantity": 5}])
    assert stock_of(saga_tables, "SKU-BOOK") == 3


# ------------------------------------------------------------------------------ cancel-order


def test_cancel_records_the_reason_and_is_idempotent(saga_tables, lambda_context):
    create(lambda_context)
    error = {
        "Error": "PaymentDeclinedError",
        "Cause": '{"errorMessage": "card declined", "errorType": "PaymentDeclinedError"}',
    }
    event = {"order_id": "order-1", "saga_id": SAGA, "error": error}

    first = cancel_order.handler(event, lambda_context)
    cancelled_at = order_row(saga_tables)["cancelled_at"]
    second = cancel_order.handler(event, lambda_context)

    assert first["cancelled"] is True
    assert second == {
        "order_id": "order-1",
        "cancelled": False,
        "reason": "order already cancelled",
    }
    row = order_row(saga_tables)
    assert row["status"] == "CANCELLED"
    assert row["cancel_reason"] == "PaymentDeclinedError: card declined"
    assert row["cancelled_at"] == cancelled_at


def test_cancel_of_an_order_never_created_creates_nothing(saga_tables, lambda_context):
    result = cancel_order.handler({"order_id": "order-1", "saga_id": SAGA}, lambda_context)
    assert result["cancelled"] is False and result["reason"] == "order was never created"
    assert saga_tables["orders"].scan()["Items"] == []


def test_cancel_leaves_an_order_of_another_saga_alone(saga_tables, lambda_context):
    create(lambda_context)
    result = cancel_order.handler({"order_id": "order-1", "saga_id": OTHER_SAGA}, lambda_context)
    assert result["reason"] == "order belongs to another execution"
    assert order_row(saga_tables)["status"] == "PENDING"


def test_cancel_needs_the_saga_id(saga_tables, lambda_context):
    with pytest.raises(InvalidOrderError, match="saga_id"):
        cancel_order.handler({"order_id": "order-1"}, lambda_context)


# ------------------------------------------------------------------------------ full happy path


def test_the_steps_in_sequence_ship_a_paid_order(saga_tables, lambda_context):
    seed_stock(saga_tables, SKU_BOOK=5, SKU_PEN=3)
    create(lambda_context)
    reserve(lambda_context)
    charge(lambda_context)
    ship_order.handler({"order_id": "order-1"}, lambda_context)
    row = order_row(saga_tables)
    assert row["status"] == "SHIPPED" and row["tracking_id"] == "TRK-order-1"
    assert payment_row(saga_tables)["status"] == "CHARGED"
    assert stock_of(saga_tables, "SKU-BOOK") == 3


# ------------------------------------------------------------------------------ transient errors


def _client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("InternalServerError", 500),
        _client_error("SomethingNew", 503),
        _client_error(
            "TransactionCanceledException",
            CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
        ),
        EndpointConnectionError(endpoint_url="http://dynamodb"),
    ],
)
def test_flaky_dependency_failures_become_transient_errors(error):
    with pytest.raises(TransientError), tables.transient_errors():
        raise error


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ConditionalCheckFailedException"),
        _client_error("ValidationException"),
        _client_error(
            "TransactionCanceledException",
            CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
        ),
    ],
)
def test_definite_answers_are_not_transient(error):
    with pytest.raises(ClientError), tables.transient_errors():
        raise error


def test_throttled_table_surfaces_as_transient_error_from_a_handler(
    saga_tables, lambda_context, monkeypatch
):
    up_to_reserved(saga_tables, lambda_context)
    client = tables.client()

    def throttled(**_: Any) -> None:
        raise _client_error("ProvisionedThroughputExceededException")

    monkeypatch.setattr(client, "transact_write_items", throttled)
    with pytest.raises(TransientError):
        release(lambda_context)
    assert stock_of(saga_tables, "SKU-BOOK") == 3  # nothing happened; the retry will do it
