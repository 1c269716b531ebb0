"""create-order: validate the request and record the order as PENDING.

Event (built by the state machine): {"order": <execution input>, "saga_id": <execution ARN>}.
The conditional put makes the order id a claim: the first saga to write it owns the order. A retry
of the same saga finds its own claim and returns it; another saga gets DuplicateOrderError and must
leave the order alone (so its compensations never undo someone else's order).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tables
from ..errors import DuplicateOrderError, InvalidOrderError
from ..models import PENDING, CreateOrderEvent, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = validated(CreateOrderEvent, event)
    except InvalidOrderError as error:
        logger.warning("order rejected", extra={"reasons": error.reasons})
        raise
    order, saga_id = request.order, request.saga_id
    logger.append_keys(order_id=order.order_id)

    item = {
        "order_id": order.order_id,
        "saga_id": saga_id,
        "customer_id": order.customer_id,
        "items": [
            {"sku": i.sku, "quantity": i.quantity, "unit_price": i.unit_price} for i in order.items
        ],
        "amount": order.amount,
        "status": PENDING,
        "created_at": tables.now(),
    }
    try:
        with tables.transient_errors():
            tables.table(tables.ORDERS_TABLE_ENV).put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(order_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except tables.client().exceptions.ConditionalCheckFailedException as error:
        existing = tables.old_item(error) or {}
        if existing.get("saga_id") != saga_id:
            raise DuplicateOrderError(
                f"order {order.order_id} already exists and belongs to another execution"
            ) from None
        # Our own earlier attempt wrote it (its response was lost): same result again.
        logger.info("order already created by this saga", extra={"status": existing["status"]})
        return order.summary(str(existing.get("status", PENDING)))

    logger.info("order created", extra={"amount": str(order.amount), "items": len(order.items)})
    return order.summary(PENDING)
