"""The order request, its validation, and the shapes the steps exchange.

Money is `Decimal` with two places (DynamoDB numbers must be Decimal, floats are lossy) and travels
between steps as a string ("25.00") because JSON has no decimal type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidOrderError

MAX_ITEMS = 25  # a reservation is one transaction: items + the order must stay under 100
MAX_QUANTITY = 1000
CENTS = Decimal("0.01")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class OrderItem:
    sku: str
    quantity: int
    unit_price: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity, "unit_price": str(self.unit_price)}


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    items: tuple[OrderItem, ...]
    payment_token: str
    amount: Decimal

    def summary(self, status: str) -> dict[str, Any]:
        """What create-order returns: the validated, normalised order the next steps work from."""
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "status": status,
            "amount": str(self.amount),
            "items": [item.to_json() for item in self.items],
            "payment": {"token": self.payment_token, "amount": str(self.amount)},
        }


def _is_number(value: Any) -> bool:
    # bool is an int subclass: `true` is not a price
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def parse_money(value: Any, field: str, reasons: list[str]) -> Decimal | None:
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            reasons.append(f"{field} must be a number")
            return None
    elif _is_number(value):
        amount = Decimal(str(value))  # str() keeps 19.99 as 19.99, not its binary expansion
    else:
        reasons.append(f"{field} must be a number")
        return None
    if not amount.is_finite():
        reasons.append(f"{field} must be finite")
        return None
    if amount < 0:
        reasons.append(f"{field} must be >= 0")
        return None
    if amount != amount.quantize(CENTS):
        reasons.append(f"{field} must have at most 2 decimal places")
        return None
    return amount.quantize(CENTS)


def _parse_id(payload: dict[str, Any], field: str, reasons: list[str]) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value:
        reasons.append(f"{field} is required (non-empty string)")
        return ""
    if not _ID.match(value):
        reasons.append(f"{field} must match {_ID.pattern}")
    return value


def parse_items(value: Any, reasons: list[str], *, prices: bool = True) -> tuple[OrderItem, ...]:
    """Validate a list of items. `prices=False` for steps that only move stock."""
    if not isinstance(value, list) or not value:
        reasons.append("items must be a non-empty list")
        return ()
    if len(value) > MAX_ITEMS:
        reasons.append(f"items must hold at most {MAX_ITEMS} entries")
        return ()
    items: list[OrderItem] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        where = f"items[{index}]"
        if not isinstance(raw, dict):
            reasons.append(f"{where} must be an object")
            continue
        before = len(reasons)
        sku = _parse_id(raw, "sku", reasons)
        if sku in seen:
            # one transaction cannot touch the same inventory row twice
            reasons.append(f"{where}.sku {sku} appears more than once")
        seen.add(sku)
        quantity = raw.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            reasons.append(f"{where}.quantity must be an integer > 0")
        elif quantity > MAX_QUANTITY:
            reasons.append(f"{where}.quantity must be <= {MAX_QUANTITY}")
        price: Decimal | None = Decimal(0)
        if prices:
            price = parse_money(raw.get("unit_price"), f"{where}.unit_price", reasons)
        if len(reasons) == before and price is not None and isinstance(quantity, int):
            items.append(OrderItem(sku=sku, quantity=quantity, unit_price=price))
    return tuple(items)


def parse_order(payload: Any) -> Order:
    """Validate an order request; every problem is reported at once in InvalidOrderError."""
    if not isinstance(payload, dict):
        raise InvalidOrderError(["order must be a JSON object"])
    reasons: list[str] = []
    order_id = _parse_id(payload, "order_id", reasons)
    customer_id = _parse_id(payload, "customer_id", reasons)
    items = parse_items(payload.get("items"), reasons)
    total = sum((item.unit_price * item.quantity for item in items), Decimal(0)).quantize(CENTS)

    payment = payload.get("payment")
    token = ""
    if not isinstance(payment, dict):
        reasons.append("payment must be an object with a token")
    else:
        token_value = payment.get("token")
        if not isinstance(token_value, str) or not token_value.strip():
            reasons.append("payment.token is required (non-empty string)")
        else:
            token = token_value
        if payment.get("amount") is not None:
            # a given amount is a cross-check of what the client thinks it pays
            given = parse_money(payment["amount"], "payment.amount", reasons)
            if given is not None and items and given != total:
                reasons.append(f"payment.amount {given} does not match the items total {total}")
    if reasons:
        raise InvalidOrderError(reasons)
    return Order(
        order_id=order_id,
        customer_id=customer_id,
        items=items,
        payment_token=token,
        amount=total,
    )


def require_order_id(event: Any) -> str:
    """The order id every later step receives; its absence is a wiring bug, reported clearly."""
    reasons: list[str] = []
    if not isinstance(event, dict):
        raise InvalidOrderError(["event must be a JSON object"])
    order_id = _parse_id(event, "order_id", reasons)
    if reasons:
        raise InvalidOrderError(reasons)
    return order_id


def stock_items(event: dict[str, Any]) -> tuple[OrderItem, ...]:
    """The (sku, quantity) pairs a reserve or release moves."""
    reasons: list[str] = []
    items = parse_items(event.get("items"), reasons, prices=False)
    if reasons:
        raise InvalidOrderError(reasons)
    return items


def error_summary(error: Any) -> str:
    """A short reason from a Step Functions error object ({"Error": ..., "Cause": ...})."""
    if isinstance(error, dict):
        name = str(error.get("Error") or "Error")
        cause = error.get("Cause")
        message = ""
        if isinstance(cause, str):
            try:  # a Lambda error's Cause is its JSON error payload
                parsed = json.loads(cause)
                message = str(parsed.get("errorMessage", "")) if isinstance(parsed, dict) else ""
            except ValueError:
                message = cause
        return f"{name}: {message}"[:500] if message else name
    if isinstance(error, str) and error:
        return error[:500]
    return "cancelled"


# Order statuses, in the order a successful saga moves through them; CANCELLED ends a failed one.
PENDING = "PENDING"
RESERVED = "RESERVED"
CHARGED = "CHARGED"
SHIPPED = "SHIPPED"
CANCELLED = "CANCELLED"

# Payment statuses.
PAYMENT_CHARGED = "CHARGED"
PAYMENT_REFUNDED = "REFUNDED"


def reservation_signature(items: tuple[OrderItem, ...]) -> str:
    """A canonical text of what a reservation holds ("SKU-A:2|SKU-B:1"), stored on the order.
    The release compares it in its condition, so it gives back exactly what was taken."""
    return "|".join(f"{item.sku}:{item.quantity}" for item in sorted(items, key=lambda i: i.sku))
