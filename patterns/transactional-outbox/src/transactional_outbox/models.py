"""The shapes this pattern exchanges, as Pydantic models (validated with Powertools parser).

- `CreateOrderRequest`: the body of `POST /orders`.
- `OrderCreatedDetail`: the event's `detail`, written to the outbox by create-order, published by
  relay, applied by consumer. `event_id` is ours (not EventBridge's `id`): it is fixed when the
  order is written, so every copy of the event carries the same id and the consumer can dedupe.
- `OutboxRecord`: the outbox item as the relay reads it from the stream's new image.

Money is `Decimal` with two places (DynamoDB numbers must be Decimal; floats are lossy) and travels
in JSON as a string ("25.00").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel,
    DynamoDBStreamRecordModel,
    EventBridgeModel,
    SqsRecordModel,
)
from pydantic import BaseModel, ConfigDict, Field, Json, PlainSerializer, field_validator

ORDER_CREATED = "OrderCreated"
PENDING = "PENDING"
PUBLISHED = "PUBLISHED"
CENTS = Decimal("0.01")

# Serialised as a string so JSON never turns money into a float.
Money = Annotated[
    Decimal,
    Field(gt=0, le=Decimal("1000000"), max_digits=12, decimal_places=2),
    PlainSerializer(lambda value: str(value.quantize(CENTS)), return_type=str, when_used="json"),
]
Uuid = Annotated[
    str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$", description="Upper-case stock code.")
    # strict: `true` or "2" is not a quantity
    quantity: int = Field(strict=True, ge=1, le=1000)
    unit_price: Money


class CreateOrderRequest(BaseModel):
    """Body of POST /orders. Unknown fields are rejected, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    currency: Literal["EUR", "GBP", "USD"] = "USD"
    # One order and one outbox record per transaction: the size stays far below DynamoDB's limits.
    items: list[OrderLine] = Field(min_length=1, max_length=50)

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.items), Decimal(0)).quantize(
            CENTS
        )


class OrderCreatedDetail(BaseModel):
    """The event contract (EventBridge `detail`); versioned so consumers can evolve."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    event_id: Uuid
    event_type: Literal["OrderCreated"] = ORDER_CREATED
    order_id: Uuid
    customer_id: str = Field(min_length=1, max_length=64)
    currency: Literal["EUR", "GBP", "USD"]
    total: Money
    items: list[OrderLine] = Field(min_length=1, max_length=50)
    occurred_at: datetime


class OutboxRecord(BaseModel):
    """An outbox item. `payload` stays the exact JSON text create-order wrote: the relay
    publishes those bytes, after checking they are a valid `OrderCreatedDetail`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Uuid
    aggregate_id: Uuid
    event_type: Literal["OrderCreated"]
    payload: str
    status: Literal["PENDING", "PUBLISHED"]
    created_at: datetime
    expires_at: int

    @field_validator("payload")
    @classmethod
    def _payload_is_the_contract(cls, value: str) -> str:
        OrderCreatedDetail.model_validate_json(value)
        return value

    def detail(self) -> OrderCreatedDetail:
        return OrderCreatedDetail.model_validate_json(self.payload)


# --- Powertools parser models for the two Lambda event sources ----------------------------------


class OutboxChange(DynamoDBStreamChangedRecordModel):
    # The base validator turns DynamoDB JSON into Python values first; then OutboxRecord applies.
    NewImage: OutboxRecord | None = None  # type: ignore[assignment]
    OldImage: dict[str, object] | None = None  # type: ignore[assignment]


class OutboxStreamRecord(DynamoDBStreamRecordModel):
    dynamodb: OutboxChange


class OrderCreatedEvent(EventBridgeModel):
    detail: OrderCreatedDetail  # type: ignore[assignment]


class OrderEventMessage(SqsRecordModel):
    """An SQS message whose body is the EventBridge event the rule delivered."""

    body: Json[OrderCreatedEvent]  # type: ignore[assignment]
