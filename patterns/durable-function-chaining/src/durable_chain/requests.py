"""What the orchestrator sends each worker, as Pydantic models (Powertools parser), one per action.

A request a worker cannot understand is a bug in the caller: `parsed` raises BadRequestError (the
name the orchestrator never retries) with every problem, field path first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from pydantic import BaseModel, ConfigDict, Field

from .errors import BadRequestError
from .model import AddressRequest, error_reason

Required = Annotated[str, Field(min_length=1)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: Required


class ReserveRequest(_Request):
    action: Literal["reserve"]
    lines: list[dict[str, Any]] = Field(min_length=1)


class ReleaseRequest(_Request):
    action: Literal["release"]


class ChargeRequest(_Request):
    action: Literal["charge"]
    idempotency_key: Required
    amount_cents: int = Field(strict=True, gt=0)
    currency: Required
    token: str


class RefundRequest(_Request):
    action: Literal["refund"]
    idempotency_key: Required


class CreateShipmentRequest(_Request):
    action: Literal["create"]
    address: AddressRequest


class CancelShipmentRequest(_Request):
    action: Literal["cancel"]


class SendRequest(_Request):
    action: Literal["send"]
    customer_email: str
    tracking_id: str | None = None


InventoryRequest = Annotated[ReserveRequest | ReleaseRequest, Field(discriminator="action")]
PaymentRequest = Annotated[ChargeRequest | RefundRequest, Field(discriminator="action")]
ShippingRequest = Annotated[
    CreateShipmentRequest | CancelShipmentRequest, Field(discriminator="action")
]


def parsed(model: Any, event: Any) -> Any:
    """`event` as `model` (a request model or one of the unions above), or BadRequestError."""
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        raise BadRequestError(
            "; ".join(error_reason(detail) for detail in error.errors())
        ) from None
