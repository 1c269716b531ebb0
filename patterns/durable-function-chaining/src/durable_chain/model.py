"""The order request: a Pydantic model (Powertools parser), validated and normalised as a pure
function of the input.

`validate` runs inside the orchestrator's `validate-order` step, which never retries: the same input
always fails the same way, with InvalidOrderError (the name the orchestrator and its retry policies
match on) listing every problem. Amounts are integer cents (no floats near money or DynamoDB).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .errors import InvalidOrderError

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_LINES = 25  # one TransactWriteItems (<= 100 items) reserves every line at once
MAX_QUANTITY = 100
MAX_UNIT_PRICE_CENTS = 1_000_000
DEFAULT_SETTLEMENT_SECONDS = 60
MAX_SETTLEMENT_SECONDS = 7 * 24 * 3600
ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")

Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Request(BaseModel):
    # Callers may send more than the chain reads; unknown fields are ignored, never stored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class LineRequest(_Request):
    sku: str = Field(pattern=SKU_PATTERN, description="Upper-case letters, digits and '-'.")
    # strict: `true` or 1.5 is no quantity and no price
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY)
    unit_price_cents: int = Field(strict=True, ge=1, le=MAX_UNIT_PRICE_CENTS)


class PaymentRequest(_Request):
    token: str = Field(min_length=1, max_length=128)


class AddressRequest(_Request):
    name: Text
    line1: Text
    city: Text
    postal_code: Text
    country: Text


class OrderRequest(_Request):
    order_id: Identifier | None = None  # None: the orchestrator mints one in `assign-order-id`
    customer_id: Identifier
    customer_email: str = Field(min_length=3, max_length=254, pattern=r"@")
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    items: list[LineRequest] = Field(min_length=1)
    payment: PaymentRequest
    shipping_address: AddressRequest
    settlement_seconds: int = Field(
        DEFAULT_SETTLEMENT_SECONDS, strict=True, ge=1, le=MAX_SETTLEMENT_SECONDS
    )


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


def validate(event: Any) -> Order:
    """Every problem at once, or the normalised order (duplicate SKUs merged, total computed)."""
    try:
        request = parse(event=event, model=OrderRequest)
    except ValidationError as error:
        raise InvalidOrderError([error_reason(detail) for detail in error.errors()]) from None
    reasons: list[str] = []
    merged: dict[str, Line] = {}
    for index, item in enumerate(request.items):
        line = merged.get(item.sku)
        if line is None:
            merged[item.sku] = Line(
                sku=item.sku, quantity=item.quantity, unit_price_cents=item.unit_price_cents
            )
        elif line["unit_price_cents"] != item.unit_price_cents:
            reasons.append(f"items[{index}]: {item.sku} appears twice with different prices")
        else:
            line["quantity"] += item.quantity
    if len(merged) > MAX_LINES:
        reasons.append(f"at most {MAX_LINES} different SKUs per order")
    if reasons:
        raise InvalidOrderError(reasons)
    lines = [merged[sku] for sku in sorted(merged)]
    address = request.shipping_address
    return Order(
        order_id=request.order_id,
        customer_id=request.customer_id,
        customer_email=request.customer_email,
        currency=request.currency,
        lines=lines,
        total_cents=sum(line["quantity"] * line["unit_price_cents"] for line in lines),
        payment_token=request.payment.token,
        shipping_address={field: getattr(address, field) for field in ADDRESS_FIELDS},
        settlement_seconds=request.settlement_seconds,
    )


def error_reason(detail: Any) -> str:
    """`items[0].quantity: Input should be greater than or equal to 1`."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"])
    return f"{where.lstrip('.')}: {detail['msg']}" if where else str(detail["msg"])
