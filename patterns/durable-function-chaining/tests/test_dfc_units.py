"""Unit tests: validation, retry policies, error names, and the workers' idempotency against
in-process moto (no deployment needed)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from dfc_orders import KEYS, STOCK, order
from durable_chain import errors, model, tables
from durable_chain.errors import (
    BadRequestError,
    DuplicateOrderError,
    InvalidOrderError,
    OutOfStockError,
    PaymentDeclinedError,
    PaymentVoidedError,
    ReservationReleasedError,
    short_name,
)
from durable_chain.functions import inventory, notification, payment, shipping
from durable_chain.invoking import require_qualified
from durable_chain.orders import cancel_order, create_order
from durable_chain.retry import COMPENSATION, NETWORK, NETWORK_ERRORS, NEVER

from catalog.moto_fixtures import InProcessAws


@pytest.fixture
def moto_tables(moto_aws: InProcessAws) -> dict[str, Any]:
    """The three tables on in-process moto (`moto_aws`) by logical name, stock seeded; the
    workers' env set."""
    created = moto_aws.tables(KEYS)
    tables.reset_clients()
    moto_aws.on_teardown(tables.reset_clients)
    for sku, units in STOCK.items():
        created["inventory"].put_item(Item={"sku": sku, "stock": units})
    return created


def stock(moto_tables: dict[str, Any], sku: str) -> int:
    return int(moto_tables["inventory"].get_item(Key={"sku": sku})["Item"]["stock"])


# --- validation -------------------------------------------------------------------------------


def test_validate_normalises_merges_skus_and_totals() -> None:
    result = model.validate(
        order(
            items=[
                {"sku": "SKU-PEN", "quantity": 1, "unit_price_cents": 199},
                {"sku": "SKU-BOOK", "quantity": 2, "unit_price_cents": 1250},
                {"sku": "SKU-PEN", "quantity": 2, "unit_price_cents": 199},
            ]
        )
    )
    assert result["lines"] == [
        {"sku": "SKU-BOOK", "quantity": 2, "unit_price_cents": 1250},
        {"sku": "SKU-PEN", "quantity": 3, "unit_price_cents": 199},
    ]
    assert result["total_cents"] == 2 * 1250 + 3 * 199
    assert result["order_id"] is None
    assert result["settlement_seconds"] == 3600


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"customer_id": ""}, "customer_id"),
        ({"items": []}, "items: List should have at least 1 item"),
        ({"items": [{"sku": "book", "quantity": 1, "unit_price_cents": 1}]}, ".sku"),
        ({"items": [{"sku": "SKU-A", "quantity": 0, "unit_price_cents": 1}]}, ".quantity"),
        ({"items": [{"sku": "SKU-A", "quantity": True, "unit_price_cents": 1}]}, ".quantity"),
        ({"items": [{"sku": "SKU-A", "quantity": 1, "unit_price_cents": 1.5}]}, "unit_price"),
        ({"payment": {}}, "payment.token"),
        ({"shipping_address": {"name": "A"}}, "shipping_address.line1"),
        ({"settlement_seconds": 0}, "settlement_seconds"),
        ({"currency": "XYZ"}, "currency"),
        ({"order_id": "no spaces allowed"}, "order_id"),
    ],
)
def test_validate_rejects(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidOrderError) as info:
        model.validate(order(**change))
    assert any(reason in r for r in info.value.reasons), info.value.reasons


def test_validate_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidOrderError) as info:
        model.validate({"items": "nope"})
    assert len(info.value.reasons) >= 5


@pytest.mark.parametrize(
    ("worker", "event", "reason"),
    [
        (payment, {"action": "charge", "order_id": "o", "idempotency_key": "k"}, "amount_cents"),
        (
            payment,
            {"action": "charge", "order_id": "o", "idempotency_key": "k", "amount_cents": True,
             "currency": "USD", "token": "t"},
            "amount_cents: Input should be a valid integer",
        ),
        (payment, {"action": "pay", "order_id": "o", "idempotency_key": "k"}, "'pay'"),
        (inventory, {"action": "reserve", "order_id": "o", "lines": []}, "lines"),
        (inventory, {"action": "release"}, "order_id: Field required"),
        (shipping, {"action": "create", "order_id": "o", "address": {"name": "A"}}, "address.city"),
        (notification, {"action": "send", "order_id": "o"}, "customer_email: Field required"),
        (notification, "not an object", "Invalid JSON"),
    ],
)  # fmt: skip
def test_workers_reject_requests_they_cannot_understand(
    worker: Any, event: Any, reason: str
) -> None:
    """Parsed before any table is touched: no moto here, so a table access would fail otherwise."""
    with pytest.raises(BadRequestError, match=reason):
        worker.handler(event, None)


# --- retry policies and error names -------------------------------------------------------------


def test_policies_retry_only_network_errors_within_budget() -> None:
    assert NEVER.max_attempts == 1 and not NEVER.retries("TransientError", 1)
    for business in errors.BUSINESS_ERRORS:
        assert business not in NETWORK_ERRORS
        assert not NETWORK.retries(business, 1)
    assert not NETWORK.retries("InvalidOrderError", 1)
    assert NETWORK.retries("TransientError", 4) and not NETWORK.retries("TransientError", 5)
    assert COMPENSATION.retries("Sandbox.Timedout", 9)


def test_full_jitter_stays_within_exponential_ceiling() -> None:
    rng = random.Random(7)
    for attempts_made in range(1, 9):
        ceiling = NETWORK.ceiling_s(attempts_made)
        assert ceiling == min(2 ** (attempts_made - 1), 30)
        draws = [NETWORK.jittered_delay(attempts_made, rng) for _ in range(300)]
        assert all(1 <= d <= max(1, int(ceiling + 0.999)) for d in draws)
        if ceiling >= 8:  # full jitter: spread over the whole range, not clustered at the top
            assert min(draws) <= ceiling / 4 and max(draws) >= ceiling * 3 / 4


def test_step_configs_match_the_policies() -> None:
    none_strategy = NEVER.step_config().retry_strategy
    assert none_strategy is not None
    assert not none_strategy(errors.TransientError("x"), 1).should_retry
    network = NETWORK.step_config().retry_strategy
    assert network is not None
    assert network(errors.TransientError("x"), 1).should_retry
    assert not network(errors.TransientError("x"), 5).should_retry
    assert not network(ValueError("bug"), 1).should_retry


@pytest.mark.parametrize(
    ("wire", "short"),
    [
        ("durable_chain.errors.OutOfStockError", "OutOfStockError"),
        ("OutOfStockError", "OutOfStockError"),
        ("Sandbox.Timedout", "Sandbox.Timedout"),
        ("ChainedInvoke.Timeout", "ChainedInvoke.Timeout"),
        ("catalog.drivers.durable_local.TransientError", "TransientError"),
        (None, "UnknownError"),
    ],
)
def test_short_error_names(wire: str | None, short: str) -> None:
    assert short_name(wire) == short


def test_workers_must_be_called_through_a_qualifier() -> None:
    assert require_qualified("shop-payment:live") == "shop-payment:live"
    assert require_qualified("arn:aws:lambda:us-east-1:123456789012:function:shop-payment:7")
    for unqualified in ("shop-payment", "shop-payment:", "arn:aws:lambda:us-east-1:1:function:x"):
        with pytest.raises(ValueError, match="qualified"):
            require_qualified(unqualified)


# --- inventory worker -----------------------------------------------------------------------


def test_reserve_is_atomic_and_idempotent(moto_tables: dict[str, Any]) -> None:
    lines = [{"sku": "SKU-BOOK", "quantity": 2}, {"sku": "SKU-PEN", "quantity": 3}]
    first = inventory.reserve("o-1", lines)
    again = inventory.reserve("o-1", lines)  # a retry after a lost response
    assert first["status"] == again["status"] == "RESERVED"
    assert (stock(moto_tables, "SKU-BOOK"), stock(moto_tables, "SKU-PEN")) == (3, 7)


def test_reserve_all_or_nothing_when_one_line_is_short(moto_tables: dict[str, Any]) -> None:
    with pytest.raises(OutOfStockError, match="SKU-PEN"):
        inventory.reserve(
            "o-2", [{"sku": "SKU-BOOK", "quantity": 1}, {"sku": "SKU-PEN", "quantity": 11}]
        )
    assert (stock(moto_tables, "SKU-BOOK"), stock(moto_tables, "SKU-PEN")) == (5, 10)
    with pytest.raises(OutOfStockError):
        inventory.reserve("o-3", [{"sku": "SKU-UNKNOWN", "quantity": 1}])


def test_release_returns_stock_once(moto_tables: dict[str, Any]) -> None:
    inventory.reserve("o-4", [{"sku": "SKU-BOOK", "quantity": 4}])
    assert inventory.release("o-4")["status"] == "RELEASED"
    assert inventory.release("o-4")["status"] == "RELEASED"  # repeated compensation: no-op
    assert stock(moto_tables, "SKU-BOOK") == 5


def test_release_before_reserve_blocks_a_late_reserve(moto_tables: dict[str, Any]) -> None:
    assert inventory.release("o-5") == {
        "reservation_id": "reservation#o-5",
        "status": "RELEASED",
        "lines": [],
    }
    with pytest.raises(ReservationReleasedError):
        inventory.reserve("o-5", [{"sku": "SKU-BOOK", "quantity": 1}])
    assert stock(moto_tables, "SKU-BOOK") == 5


# --- payment worker -------------------------------------------------------------------------


def test_repeated_charge_returns_the_first_result(moto_tables: dict[str, Any]) -> None:
    first = payment.charge("key-1", "o-1", 2699, "USD", "tok_visa")
    again = payment.charge("key-1", "o-1", 2699, "USD", "tok_visa")
    assert first == again and first["status"] == "CHARGED"
    assert len(moto_tables["payments"].scan()["Items"]) == 1


def test_declined_card_is_recorded_and_stays_declined(moto_tables: dict[str, Any]) -> None:
    for _ in range(2):
        with pytest.raises(PaymentDeclinedError):
            payment.charge("key-2", "o-2", 100, "USD", "tok_declined_stolen")
    assert payment.refund("key-2", "o-2")["status"] == "DECLINED"  # nothing to refund


def test_refund_once_and_void_before_charge(moto_tables: dict[str, Any]) -> None:
    payment.charge("key-3", "o-3", 500, "USD", "tok_visa")
    assert payment.refund("key-3", "o-3")["status"] == "REFUNDED"
    assert payment.refund("key-3", "o-3")["status"] == "REFUNDED"
    assert payment.refund("key-4", "o-4")["status"] == "VOIDED"
    with pytest.raises(PaymentVoidedError):  # a late duplicate charge cannot charge any more
        payment.charge("key-4", "o-4", 500, "USD", "tok_visa")


def test_key_reused_for_another_charge_is_a_conflict(moto_tables: dict[str, Any]) -> None:
    payment.charge("key-5", "o-5", 500, "USD", "tok_visa")
    with pytest.raises(errors.IdempotencyConflictError):
        payment.charge("key-5", "o-6", 500, "USD", "tok_visa")


# --- orders (orchestrator step bodies) ----------------------------------------------------------


def test_create_order_is_rerunnable_but_owned(moto_tables: dict[str, Any]) -> None:
    normalised = model.validate(order(order_id="o-7"))
    create_order("o-7", normalised, "arn-a", None)  # type: ignore[arg-type]
    create_order("o-7", normalised, "arn-a", None)  # type: ignore[arg-type]  # a re-run
    with pytest.raises(DuplicateOrderError):
        create_order("o-7", normalised, "arn-b", None)  # type: ignore[arg-type]
    assert cancel_order("o-8", "arn-a", "why", None) == "never created"  # type: ignore[arg-type]
    cancel_order("o-7", "arn-a", "why", None)  # type: ignore[arg-type]
    cancel_order("o-7", "arn-a", "why", None)  # type: ignore[arg-type]  # repeated compensation
    item = moto_tables["orders"].get_item(Key={"order_id": "o-7"})["Item"]
    assert item["status"] == "CANCELLED" and item["failure"] == "why"
