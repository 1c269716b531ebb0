"""The effect of a reading: a `readings` row keyed by the message's idempotency key and the
sensor's running totals in `sensor_totals` (ADD reading_count, ADD value_sum).

The totals are not idempotent on their own (a second ADD counts twice). Both writes go in ONE
TransactWriteItems whose Put is conditioned on the key never having been applied, so a redelivered
or redriven message changes nothing: exactly once in effect, at-least-once delivery. A plain
conditional write was chosen over Powertools idempotency: its separate record is written before
and after the effect, so a crash between the effect and the COMPLETED update lets a later retry
apply the effect again; the condition inside the transaction cannot be separated from the effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from . import sdk
from .readings import Reading

READINGS_TABLE_ENV = "READINGS_TABLE"
TOTALS_TABLE_ENV = "SENSOR_TOTALS_TABLE"


def apply_reading(reading: Reading, key: str, message_id: str, dynamodb: Any = None) -> bool:
    """True when applied now; False when an earlier delivery of the same key applied it."""
    dynamodb = dynamodb or sdk.client("dynamodb")
    processed_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    row = {
        "message_id": {"S": key},
        "delivery_message_id": {"S": message_id},
        "sensor_id": {"S": reading.sensor_id},
        "metric": {"S": reading.metric},
        "value": {"N": str(reading.value)},
        "taken_at": {"S": reading.taken_at.isoformat()},
        "processed_at": {"S": processed_at},
    }
    totals = {
        "TableName": sdk.required_env(TOTALS_TABLE_ENV),
        "Key": {"sensor_id": {"S": reading.sensor_id}},
        "UpdateExpression": "ADD reading_count :one, value_sum :value SET updated_at = :at",
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":value": {"N": str(reading.value)},
            ":at": {"S": processed_at},
        },
    }
    put = {
        "TableName": sdk.required_env(READINGS_TABLE_ENV),
        "Item": row,
        "ConditionExpression": "attribute_not_exists(message_id)",
    }
    try:
        dynamodb.transact_write_items(TransactItems=[{"Put": put}, {"Update": totals}])
    except ClientError as error:
        if _already_applied(error):
            return False
        raise  # throttling or a conflicting transaction: the record fails and is retried
    return True


def _already_applied(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or [{}]
    return reasons[0].get("Code") == "ConditionalCheckFailed"
