"""Writing an order and its outbox record atomically (one TransactWriteItems).

Identifiers are derived, not random, whenever the client gave an Idempotency-Key: the order id is
a UUIDv5 of the key and the event id a UUIDv5 of the order id. A retry that slips past the
idempotency store (its record expired, or the first attempt crashed after the commit) therefore
targets the same items, and the transaction's conditions turn it into a read of the existing order
instead of a second order and a second event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from . import clients
from .models import ORDER_CREATED, PENDING, CreateOrderRequest, OrderCreatedDetail

ORDERS_TABLE_ENV = "ORDERS_TABLE"
OUTBOX_TABLE_ENV = "OUTBOX_TABLE"
OUTBOX_TTL_DAYS_ENV = "OUTBOX_TTL_DAYS"
# Namespaces of the derived identifiers (any fixed UUIDs; changing them changes every id).
ORDER_NAMESPACE = uuid.UUID("6f1c2d0e-4b1a-4f5e-9c7d-3a2b1c0d9e8f")
EVENT_NAMESPACE = uuid.UUID("0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b")
CREATED = "CREATED"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# Cancellation reasons that mean contention, not a false condition: worth a retry.
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


class OrderConflictError(Exception):
    """The order id exists with a different request (an Idempotency-Key reused for another body)."""


class TransientWriteError(Exception):
    """Contention or throttling: nothing was written, the same request can be retried."""


@dataclass(frozen=True)
class OrderWritten:
    order_id: str
    event_id: str
    customer_id: str
    currency: str
    total: str
    created_at: str
    replayed: bool  # True when the order already existed (an earlier attempt committed it)

    def body(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "event_id": self.event_id,
            "status": CREATED,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "total": self.total,
            "created_at": self.created_at,
        }


def order_id_for(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(ORDER_NAMESPACE, idempotency_key))


def event_id_for(order_id: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{order_id}:{ORDER_CREATED}"))


def fingerprint(request: CreateOrderRequest) -> str:
    """Hash of the normalised request: equal bodies (whatever their formatting) hash equal."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_order(
    request: CreateOrderRequest, idempotency_key: str | None, now: datetime | None = None
) -> OrderWritten:
    """Write the order and its OrderCreated outbox record, both or neither."""
    now = now or datetime.now(UTC)
    created_at = now.isoformat(timespec="milliseconds")
    order_id = order_id_for(idempotency_key)
    event_id = event_id_for(order_id)
    request_hash = fingerprint(request)
    detail = OrderCreatedDetail(
        event_id=event_id,
        order_id=order_id,
        customer_id=request.customer_id,
        currency=request.currency,
        total=request.total,
        items=request.items,
        occurred_at=now,
    )
    order = {
        "order_id": order_id,
        "customer_id": request.customer_id,
        "currency": request.currency,
        "items": [line.model_dump() for line in request.items],
        "total": request.total,
        "status": CREATED,
        "created_at": created_at,
        "request_hash": request_hash,
        "event_id": event_id,
    }
    if idempotency_key is not None:
        order["idempotency_key"] = idempotency_key
    ttl_days = clients.int_setting(OUTBOX_TTL_DAYS_ENV, 7)
    outbox = {
        "event_id": event_id,
        "aggregate_id": order_id,
        "event_type": ORDER_CREATED,
        "payload": detail.model_dump_json(),
        "status": PENDING,
        "created_at": created_at,
        # Outbox rows are only a hand-off: TTL removes them long after the 24 h stream retention.
        "expires_at": int((now + timedelta(days=ttl_days)).timestamp()),
    }
    try:
        clients.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": clients.setting(ORDERS_TABLE_ENV),
                        "Item": _av(order),
                        "ConditionExpression": "attribute_not_exists(order_id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": clients.setting(OUTBOX_TABLE_ENV),
                        "Item": _av(outbox),
                        "ConditionExpression": "attribute_not_exists(event_id)",
                    }
                },
            ]
        )
    except ClientError as error:
        return _existing_order(error, request_hash)
    return OrderWritten(
        order_id=order_id,
        event_id=event_id,
        customer_id=request.customer_id,
        currency=request.currency,
        total=str(request.total),
        created_at=created_at,
        replayed=False,
    )


def _existing_order(error: ClientError, request_hash: str) -> OrderWritten:
    """Make sense of a cancelled transaction: the same order again, a conflict, or contention."""
    code = error.response.get("Error", {}).get("Code")
    if code != "TransactionCanceledException":
        if code in ("ThrottlingException", "ProvisionedThroughputExceededException"):
            raise TransientWriteError(str(error)) from error
        raise error
    reasons = error.response.get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if codes and codes[0] == "ConditionalCheckFailed" and reasons[0].get("Item"):
        existing = {k: _deserializer.deserialize(v) for k, v in reasons[0]["Item"].items()}
        if existing.get("request_hash") != request_hash:
            raise OrderConflictError(
                f"order {existing.get('order_id')} exists with a different request"
            ) from None
        # An earlier attempt of this very request committed (its response was lost).
        return OrderWritten(
            order_id=str(existing["order_id"]),
            event_id=str(existing["event_id"]),
            customer_id=str(existing["customer_id"]),
            currency=str(existing["currency"]),
            total=str(existing["total"]),
            created_at=str(existing["created_at"]),
            replayed=True,
        )
    if set(codes) & _TRANSIENT_REASONS:
        raise TransientWriteError(f"transaction cancelled by contention: {codes}") from error
    raise error


def _av(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}
