"""The consumer's effect: a ledger entry per order and running totals per customer.

The per-customer totals are a deliberately non-idempotent effect (ADD): applying an event twice
would count the order twice. The entry keyed by the event id and the totals are written in ONE
transaction whose condition is "this event id was never applied", so a redelivered or republished
event changes nothing: exactly once in effect, whatever the delivery count.

Items (single table, key `pk`):
- `EVENT#<event_id>`: order_id, customer_id, currency, total, applied_at, message_id
- `CUSTOMER#<customer_id>`: order_count, total_<currency>, updated_at
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from . import clients
from .models import OrderCreatedDetail

LEDGER_TABLE_ENV = "LEDGER_TABLE"
_serializer = TypeSerializer()


def event_key(event_id: str) -> str:
    return f"EVENT#{event_id}"


def customer_key(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def apply_order_created(detail: OrderCreatedDetail, message_id: str, dynamodb: Any = None) -> bool:
    """Apply the event; True if applied now, False if an earlier delivery already applied it."""
    dynamodb = dynamodb or clients.client("dynamodb")
    table = clients.setting(LEDGER_TABLE_ENV)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    entry = {
        "pk": event_key(detail.event_id),
        "order_id": detail.order_id,
        "customer_id": detail.customer_id,
        "currency": detail.currency,
        "total": detail.total,
        "applied_at": now,
        "message_id": message_id,
    }
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {k: _serializer.serialize(v) for k, v in entry.items()},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": customer_key(detail.customer_id)}},
                        "UpdateExpression": "ADD order_count :one, #total :amount "
                        "SET updated_at = :now",
                        "ExpressionAttributeNames": {"#total": f"total_{detail.currency}"},
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":amount": {"N": str(detail.total)},
                            ":now": {"S": now},
                        },
                    }
                },
            ]
        )
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False  # applied by an earlier delivery: nothing to do
        raise  # contention or throttling: the message is retried
    return True
