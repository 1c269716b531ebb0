"""The order request: validation and normalisation, as a pure function of the input.

`validate` runs inside the orchestrator's `validate-order` step, which never retries: the same input
always fails the same way. Amounts are integer cents (no floats anywhere near money or DynamoDB).
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from .errors import InvalidOrderError

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CURRENCIES = frozenset({"USD", "EUR", "GBP"})
MAX_LINES = 25  # one TransactWriteItems (<= 100 items) reserves every line at once
MAX_QUANTITY = 100
MAX_UNIT_PRICE_CENTS = 1_000_000
DEFAULT_SETTLEMENT_SECONDS = 60
MAX_SETTLEMENT_SECONDS = 7 * 24 * 3600
ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")


class Line(TypedDict):
    sku: str
    quantity: int
    unit_price_cents: int


class Order(TypedDict):
    order_id: str | None  # None: the orchestrator mints one in the `assign-order-id` step
    customer_id: str
    customer_email: str
    currency: str
    lines: list[Line]
    total_cents: int
    payment_token: str
    shipping_address: dict[str, str]
    settlement_seconds: int


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(event: Any) -> Order:
    """Every problem at once, or the normalised order (duplicate SKUs merged, total computed)."""
    if not isinstance(event, dict):
        raise InvalidOrderError(["the order must be a JSON object"])
    reasons: list[str] = []

    order_id = event.get("order_id")
    if order_id is not None and not (isinstance(order_id, str) and ID_PATTERN.match(order_id)):
        reasons.append("order_id must be 1-64 letters, digits, '-' or '_'")
    customer_id = event.get("customer_id")
    if not (isinstance(customer_id, str) and ID_PATTERN.match(customer_id)):
        reasons.append("customer_id is required (1-64 letters, digits, '-' or '_')")
    email = event.get("customer_email")
    if not (isinstance(email, str) and 3 <= len(email) <= 254 and "@" in email):
        reasons.append("customer_email is required")
    currency = event.get("currency", "USD")
    if currency not in CURRENCIES:
        reasons.append(f"currency must be one of {sorted(CURRENCIES)}")

    merged: dict[str, Line] = {}
    items = event.get("items")
    if not isinstance(items, list) or not items:
        reasons.append("items must be a non-empty list")
        items = []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            reasons.append(f"{where} must be an object")
            continue
        sku, quantity, price = item.get("sku"), item.get("quantity"), item.get("unit_price_cents")
        if not (isinstance(sku, str) and SKU_PATTERN.match(sku)):
            reasons.append(f"{where}.sku must be upper-case letters, digits and '-'")
            continue
        if not (_is_int(quantity) and 1 <= quantity <= MAX_QUANTITY):
            reasons.append(f"{where}.quantity must be an integer from 1 to {MAX_QUANTITY}")
            continue
        if not (_is_int(price) and 1 <= price <= MAX_UNIT_PRICE_CENTS):
            reasons.append(f"{where}.unit_price_cents must be an integer from 1 to 1000000")
            continue
        line = merged.get(sku)
        if line is None:
            merged[sku] = Line(sku=sku, quantity=quantity, unit_price_cents=price)
        elif line["unit_price_cents"] != price:
            reasons.append(f"{where}: {sku} appears twice with different prices")
        else:
            line["quantity"] += quantity
    if len(merged) > MAX_LINES:
        reasons.append(f"at most {MAX_LINES} different SKUs per order")

    payment = event.get("payment")
    token = payment.get("token") if isinstance(payment, dict) else None
    if not (isinstance(token, str) and 1 <= len(token) <= 128):
        reasons.append("payment.token is required")

    address = event.get("shipping_address")
    if not isinstance(address, dict):
        reasons.append("shipping_address is required")
        address = {}
    for field in ADDRESS_FIELDS:
        value = address.get(field)
        if not (isinstance(value, str) and value.strip()):
            reasons.append(f"shipping_address.{field} is required")

    settlement = event.get("settlement_seconds", DEFAULT_SETTLEMENT_SECONDS)
    if not (_is_int(settlement) and 1 <= settlement <= MAX_SETTLEMENT_SECONDS):
        reasons.append(f"settlement_seconds must be an integer from 1 to {MAX_SETTLEMENT_SECONDS}")

    if reasons:
        raise InvalidOrderError(reasons)
    lines = [merged[sku] for sku in sorted(merged)]
    return Order(
        order_id=order_id,
        customer_id=customer_id,
        customer_email=email,
        currency=currency,
        lines=lines,
        total_cents=sum(line["quantity"] * line["unit_price_cents"] for line in lines),
        payment_token=token,
        shipping_address={field: str(address[field]) for field in ADDRESS_FIELDS},
        settlement_seconds=settlement,
    )
