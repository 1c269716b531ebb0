"""refund-payment (compensation): give back a charge, once; nothing to do if nothing was charged.

Event: {"order_id": "..."}. The payment is found by the same idempotency key the charge used. Only a
CHARGED payment is refunded, with a conditional update (CHARGED -> REFUNDED), so a retried or
repeated refund is a no-op. The order is then marked refunded (also idempotent).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import payments, tables
from ..models import PAYMENT_CHARGED, PAYMENT_REFUNDED, StepEvent, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order_id = validated(StepEvent, event).order_id
    logger.append_keys(order_id=order_id)
    key = tables.payment_key(order_id)
    payments_table = tables.table(tables.PAYMENTS_TABLE_ENV)

    with tables.transient_errors():
        record = payments_table.get_item(Key={"idempotency_key": key}, ConsistentRead=True).get(
            "Item"
        )
    if record is None:
        logger.info("nothing was charged, nothing to refund")
        return {"order_id": order_id, "refunded": False, "reason": "no charge"}

    if record.get("status") == PAYMENT_CHARGED:
        refund_id = payments.refund(str(record["charge_id"]), Decimal(record["amount"]), key)
        try:
            with tables.transient_errors():
                payments_table.update_item(
                    Key={"idempotency_key": key},
                    UpdateExpression=(
                        "SET #status = :refunded, refund_id = :rid, refunded_at = :now"
                    ),
                    ConditionExpression="#status = :charged",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":refunded": PAYMENT_REFUNDED,
                        ":charged": PAYMENT_CHARGED,
                        ":rid": refund_id,
                        ":now": tables.now(),
                    },
                )
            logger.info("payment refunded", extra={"refund_id": refund_id})
        except tables.client().exceptions.ConditionalCheckFailedException:
            logger.info("payment was refunded concurrently")  # same key, same refund id
    else:
        refund_id = str(record.get("refund_id", ""))
        logger.info("payment already refunded", extra={"refund_id": refund_id})

    _mark_order_refunded(order_id, refund_id)
    return {"order_id": order_id, "refunded": True, "refund_id": refund_id}


def _mark_order_refunded(order_id: str, refund_id: str) -> None:
    try:
        with tables.transient_errors():
            tables.table(tables.ORDERS_TABLE_ENV).update_item(
                Key={"order_id": order_id},
                UpdateExpression=(
                    "SET refunded_at = if_not_exists(refunded_at, :now),"
                    " refund_id = if_not_exists(refund_id, :rid)"
                ),
                ConditionExpression="attribute_exists(order_id)",
                ExpressionAttributeValues={":now": tables.now(), ":rid": refund_id},
            )
    except tables.client().exceptions.ConditionalCheckFailedException:
        logger.warning("refunded a payment whose order does not exist")
