"""ship-order: mark a charged order SHIPPED.

Event: {"order_id": "..."}. Allowed only from CHARGED (or SHIPPED again, for a retry whose first
response was lost: the timestamps and tracking id are kept with if_not_exists).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tables
from ..errors import OrderStateError
from ..models import CHARGED, SHIPPED, StepEvent, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order_id = validated(StepEvent, event).order_id
    logger.append_keys(order_id=order_id)
    tracking_id = f"TRK-{order_id}"  # deterministic: a retry must not invent a second parcel
    try:
        with tables.transient_errors():
            tables.table(tables.ORDERS_TABLE_ENV).update_item(
                Key={"order_id": order_id},
                UpdateExpression=(
                    "SET #status = :shipped, shipped_at = if_not_exists(shipped_at, :now),"
                    " tracking_id = if_not_exists(tracking_id, :tracking)"
                ),
                ConditionExpression=(
                    "attribute_exists(order_id) AND #status IN (:charged, :shipped)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":shipped": SHIPPED,
                    ":charged": CHARGED,
                    ":now": tables.now(),
                    ":tracking": tracking_id,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except tables.client().exceptions.ConditionalCheckFailedException as error:
        status = (tables.old_item(error) or {}).get("status", "missing")
        raise OrderStateError(f"order {order_id} is {status}, only CHARGED can ship") from None
    logger.info("order shipped", extra={"tracking_id": tracking_id})
    return {"order_id": order_id, "status": SHIPPED, "tracking_id": tracking_id}
