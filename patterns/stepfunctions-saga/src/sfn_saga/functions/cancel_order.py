"""cancel-order (compensation): mark the order CANCELLED with the reason, once.

Event: {"order_id": "...", "saga_id": <execution ARN>, "error": {"Error": ..., "Cause": ...}}.
Only the saga that created the order may cancel it (`saga_id` condition): a duplicate execution
that failed before owning anything must not cancel the original. A missing, foreign or already
cancelled order makes this a no-op.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tables
from ..errors import InvalidOrderError
from ..models import CANCELLED, StepEvent, error_summary, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order_id = validated(StepEvent, event).order_id
    saga_id = event.get("saga_id")
    if not isinstance(saga_id, str) or not saga_id:
        raise InvalidOrderError(["saga_id is required (the execution id)"])
    logger.append_keys(order_id=order_id)
    reason = error_summary(event.get("error"))
    try:
        with tables.transient_errors():
            tables.table(tables.ORDERS_TABLE_ENV).update_item(
                Key={"order_id": order_id},
                UpdateExpression=(
                    "SET #status = :cancelled, cancel_reason = :reason, cancelled_at = :now"
                ),
                ConditionExpression=(
                    "attribute_exists(order_id) AND saga_id = :saga AND #status <> :cancelled"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":cancelled": CANCELLED,
                    ":reason": reason,
                    ":saga": saga_id,
                    ":now": tables.now(),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except tables.client().exceptions.ConditionalCheckFailedException as error:
        order = tables.old_item(error)
        if order is None:
            outcome = "order was never created"
        elif order.get("saga_id") != saga_id:
            outcome = "order belongs to another execution"
            logger.warning(outcome)
        else:
            outcome = "order already cancelled"
        logger.info("nothing to cancel", extra={"outcome": outcome})
        return {"order_id": order_id, "cancelled": False, "reason": outcome}
    logger.info("order cancelled", extra={"reason": reason})
    return {"order_id": order_id, "cancelled": True, "status": CANCELLED, "reason": reason}
