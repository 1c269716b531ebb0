"""The order request and the shapes the steps exchange, as Pydantic models (Powertools parser).

Every step validates its event with `validated`: a malformed event raises InvalidOrderError (the
name the state machine's Catch matches) with one reason per problem, all at once.

Money is `Decimal` with two places (DynamoDB numbers must be Decimal, floats are lossy) and travels
between steps as a string ("25.00") because JSON has no decimal type.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import InvalidOrderError

MAX_ITEMS = 25  # a reservation is one transaction: items + the order must stay under 100
MAX_QUANTITY = 1000
CENTS = Decimal("0.01")

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
# A number or a numeric string (never a bool), finite, >= 0, at most two places; kept as cents.
Money = Annotated[
    Decimal,
    Field(ge=0, decimal_places=2, allow_inf_nan=False),
    AfterValidator(lambda amount: amount.quantize(CENTS)),
]


class _Event(BaseModel):
    # Steps receive more than they read (the state machine passes whole results): extras are ignored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class StockItem(_Event):
    sku: Identifier
    quantity: int = Field(strict=True, gt=0, le=MAX_QUANTITY)  # strict: 1.5 or true is no quantity


class OrderItem(StockItem):
    unit_price: Money

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity, "unit_price": str(self.unit_price)}


Item = TypeVar("Item", bound="StockItem")


def _unique_skus(items: tuple[Item, ...]) -> tuple[Item, ...]:
    # One transaction cannot touch the same inventory row twice.
    seen: set[str] = set()
    for item in items:
        if item.sku in seen:
            raise ValueError(f"sku {item.sku} appears more than once")
        seen.add(item.sku)
    return items


class Payment(_Event):
    token: str
    amount: Money | None = None  # a given amount is a cross-check of what the client thinks it pays

    @field_validator("token")
    @classmethod
    def _not_blank(cls, token: str) -> str:
        if not token.strip():
            raise ValueError("the token must not be blank")
        return token


class Order(_Event):
    """The execution input create-order validates; the next steps work from its summary."""

    order_id: Identifier
    customer_id: Identifier
    items: Annotated[
        tuple[OrderItem, ...],
        Field(min_length=1, max_length=MAX_ITEMS),
        AfterValidator(_unique_skus),
    ]
    payment: Payment

    @property
    def amount(self) -> Decimal:
        total = sum((item.unit_price * item.quantity for item in self.items), Decimal(0))
        return total.quantize(CENTS)

    @property
    def payment_token(self) -> str:
        return self.payment.token

    @model_validator(mode="after")
    def _amount_matches_the_items(self) -> Self:
        given = self.payment.amount
        if given is not None and given != self.amount:
            raise ValueError(f"payment.amount {given} does not match the items total {self.amount}")
        return self

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


class CreateOrderEvent(_Event):
    """What the state machine gives create-order: the execution input and the execution id."""

    order: Order
    saga_id: str = Field(min_length=1)


class StepEvent(_Event):
    """Every later step receives the order id; its absence is a wiring bug, reported clearly."""

    order_id: Identifier


class StockEvent(StepEvent):
    """What a reserve or release moves."""

    items: Annotated[
        tuple[StockItem, ...],
        Field(min_length=1, max_length=MAX_ITEMS),
        AfterValidator(_unique_skus),
    ]


class ChargeEvent(StepEvent):
    amount: Money
    token: str = Field(min_length=1)


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], event: Any) -> Model:
    """`event` parsed as `model`, or InvalidOrderError listing every problem ("items[0].sku: ...")."""
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        raise InvalidOrderError([_reason(detail) for detail in error.errors()]) from None


def _reason(detail: Any) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"])
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{where.lstrip('.')}: {message}" if where else message


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


def reservation_signature(items: tuple[StockItem, ...]) -> str:
    """A canonical text of what a reservation holds ("SKU-A:2|SKU-B:1"), stored on the order.
    The release compares it in its condition, so it gives back exactly what was taken."""
    return "|".join(f"{item.sku}:{item.quantity}" for item in sorted(items, key=lambda i: i.sku))
