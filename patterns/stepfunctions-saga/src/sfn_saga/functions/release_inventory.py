"""release-inventory (compensation): put back exactly what the reservation took, once.

Event: {"order_id": "...", "items": [{"sku": "...", "quantity": n}, ...]}.
One transaction increments each SKU and marks the order released, on the condition that the order
holds this very reservation (same signature) and was not released yet. No reservation, or one
already released, means there is nothing to give back: the step is a no-op.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tables
from ..errors import OrderStateError
from ..models import StockEvent, reservation_signature, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = validated(StockEvent, event)
    order_id, items = request.order_id, request.items
    logger.append_keys(order_id=order_id)
    signature = reservation_signature(items)

    transaction: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": tables.table_name(tables.ORDERS_TABLE_ENV),
                "Key": {"order_id": order_id},
                "UpdateExpression": "SET released_at = :now",
                "ConditionExpression": (
                    "attribute_exists(reserved_at) AND attribute_not_exists(released_at)"
                    " AND reservation = :sig"
                ),
                "ExpressionAttributeValues": {":now": tables.now(), ":sig": signature},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    transaction.extend(
        {
            "Update": {
                "TableName": tables.table_name(tables.INVENTORY_TABLE_ENV),
                "Key": {"sku": item.sku},
                "UpdateExpression": "SET stock = if_not_exists(stock, :zero) + :q",
                "ExpressionAttributeValues": {":q": item.quantity, ":zero": 0},
            }
        }
        for item in items
    )
    try:
        with tables.transient_errors():
            tables.client().transact_write_items(TransactItems=transaction)
    except tables.client().exceptions.TransactionCanceledException as error:
        reason = tables.cancellation_reasons(error)[0]
        if reason["Code"] != "ConditionalCheckFailed":
            raise
        order = reason.get("Item")
        if order is None or "reserved_at" not in order:
            logger.info("nothing was reserved, nothing to release")
            return {"order_id": order_id, "released": False, "reason": "no reservation"}
        if "released_at" in order:
            logger.info("reservation already released")
            return {"order_id": order_id, "released": True, "already_released": True}
        raise OrderStateError(
            f"order {order_id} holds reservation {order.get('reservation')!r}, not {signature!r}"
        ) from None

    logger.info("inventory released", extra={"reservation": signature})
    return {"order_id": order_id, "released": True, "already_released": False}
