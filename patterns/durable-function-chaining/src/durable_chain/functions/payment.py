"""Payment worker (an ordinary Lambda function): charge and refund, keyed by an idempotency key.

The payments table stands in for a payment provider that supports idempotency keys: the FIRST
result recorded for a key is the answer forever.
- charge: records the outcome (CHARGED or DECLINED) with `attribute_not_exists`; a repeated charge
  with the same key (a retry after a lost response) reads and returns that first result, so a
  customer is never charged twice.
- refund: CHARGED -> REFUNDED at most once. A refund for a key that was never charged records
  VOIDED, so a late duplicate charge with that key cannot charge after the order was compensated.

The orchestrator mints the key once, inside a durable step, and every retry reuses it.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ..errors import (
    IdempotencyConflictError,
    PaymentDeclinedError,
    PaymentVoidedError,
    TransientError,
)
from ..requests import ChargeRequest, PaymentRequest, parsed
from ..tables import PAYMENTS_TABLE, is_condition_failure, now, plain, table, transient_errors

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()

CHARGED = "CHARGED"
DECLINED = "DECLINED"
REFUNDED = "REFUNDED"
VOIDED = "VOIDED"
# Test cards of the simulated provider: any token starting with this is declined.
DECLINED_TOKEN_PREFIX = "tok_declined"


def _read(key: str) -> dict[str, Any] | None:
    with transient_errors():
        item = (
            table(PAYMENTS_TABLE)
            .get_item(Key={"idempotency_key": key}, ConsistentRead=True)
            .get("Item")
        )
    return plain(item) if item else None


def _first_result(record: dict[str, Any], order_id: str, amount_cents: int) -> dict[str, Any]:
    """The answer a repeated charge gets: whatever the first charge with this key recorded."""
    if record["order_id"] != order_id:
        raise IdempotencyConflictError(
            f"idempotency key {record['idempotency_key']} belongs to another order"
        )
    if record["status"] == VOIDED:
        raise PaymentVoidedError(f"charge for order {order_id} was voided by a refund")
    if int(record["amount_cents"]) != amount_cents:
        raise IdempotencyConflictError(
            f"idempotency key {record['idempotency_key']} was used for another amount"
        )
    if record["status"] == DECLINED:
        raise PaymentDeclinedError(f"card declined for order {order_id}")
    return _answer(record)


def _answer(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": record["payment_id"],
        "status": record["status"],
        "amount_cents": int(record["amount_cents"]),
        "currency": record["currency"],
    }


def charge(key: str, order_id: str, amount_cents: int, currency: str, token: str) -> dict[str, Any]:
    declined = token.startswith(DECLINED_TOKEN_PREFIX)
    record = {
        "idempotency_key": key,
        "order_id": order_id,
        "amount_cents": amount_cents,
        "currency": currency,
        # Random ids are fine here: this is an ordinary function, and the stored first result
        # (not a new id) is what every repeated charge returns.
        "payment_id": f"pay_{uuid.uuid4().hex[:20]}",
        "status": DECLINED if declined else CHARGED,
        "created_at": now(),
    }
    try:
        with transient_errors():
            table(PAYMENTS_TABLE).put_item(
                Item=record, ConditionExpression="attribute_not_exists(idempotency_key)"
            )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        existing = _read(key)
        if existing is None:  # pragma: no cover - the condition said it exists
            raise TransientError(f"payment {key} not readable yet") from error
        logger.info("charge repeated: returning the first result", extra={"key": key})
        return _first_result(existing, order_id, amount_cents)
    if declined:
        raise PaymentDeclinedError(f"card declined for order {order_id}")
    logger.info("charged", extra={"key": key, "order_id": order_id, "amount": amount_cents})
    return _answer(record)


def refund(key: str, order_id: str) -> dict[str, Any]:
    for _ in range(3):  # a concurrent charge can create the record between our two writes
        try:
            with transient_errors():
                updated = table(PAYMENTS_TABLE).update_item(
                    Key={"idempotency_key": key},
                    UpdateExpression="SET #s = :refunded, refunded_at = :at",
                    ConditionExpression="#s = :charged",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":refunded": REFUNDED,
                        ":charged": CHARGED,
                        ":at": now(),
                    },
                    ReturnValues="ALL_NEW",
                )
            logger.info("refunded", extra={"key": key, "order_id": order_id})
            return _answer(plain(updated["Attributes"]))
        except ClientError as error:
            if not is_condition_failure(error):
                raise
        existing = _read(key)
        if existing is not None:
            # REFUNDED already, DECLINED (nothing was charged) or VOIDED: nothing left to do.
            return {**_answer(existing), "refunded": existing["status"] == REFUNDED}
        try:
            with transient_errors():
                table(PAYMENTS_TABLE).put_item(
                    Item={
                        "idempotency_key": key,
                        "order_id": order_id,
                        "amount_cents": 0,
                        "currency": "-",
                        "payment_id": "-",
                        "status": VOIDED,
                        "created_at": now(),
                    },
                    ConditionExpression="attribute_not_exists(idempotency_key)",
                )
        except ClientError as error:
            if is_condition_failure(error):
                continue
            raise
        logger.info("refund before any charge: key voided", extra={"key": key})
        return {"payment_id": "-", "status": VOIDED, "amount_cents": 0, "currency": "-"}
    raise TransientError(f"payment {key} kept changing; try again")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parsed(PaymentRequest, event)
    if isinstance(request, ChargeRequest):
        return charge(
            request.idempotency_key,
            request.order_id,
            request.amount_cents,
            request.currency,
            request.token,
        )
    return refund(request.idempotency_key, request.order_id)
