"""reserve-inventory: take the order's units out of stock, all or nothing, exactly once.

Event: {"order_id": "...", "items": [{"sku": "...", "quantity": n}, ...]}.
One TransactWriteItems holds a conditional decrement per SKU (`stock >= :q`, never read-then-write)
and the order update that records the reservation (only from PENDING, only if not yet reserved).
Either everything commits or nothing does, so a retry after a lost response finds the reservation
marker on the order and returns without decrementing a second time.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from .. import tables
from ..errors import OrderStateError, OutOfStockError
from ..models import (
    PENDING,
    RESERVED,
    StockEvent,
    StockItem,
    reservation_signature,
    validated,
)
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = validated(StockEvent, event)
    order_id, items = request.order_id, request.items
    logger.append_keys(order_id=order_id)
    signature = reservation_signature(items)
    inventory = tables.table_name(tables.INVENTORY_TABLE_ENV)
    orders = tables.table_name(tables.ORDERS_TABLE_ENV)

    transaction: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": inventory,
                "Key": {"sku": item.sku},
                "UpdateExpression": "SET stock = stock - :q",
                "ConditionExpression": "attribute_exists(sku) AND stock >= :q",
                "ExpressionAttributeValues": {":q": item.quantity},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for item in items
    ]
    transaction.append(
        {
            "Update": {
                "TableName": orders,
                "Key": {"order_id": order_id},
                "UpdateExpression": (
                    "SET #status = :reserved, reservation = :sig, reserved_at = :now"
                ),
                "ConditionExpression": (
                    "attribute_exists(order_id) AND #status = :pending"
                    " AND attribute_not_exists(reserved_at)"
                ),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":reserved": RESERVED,
                    ":pending": PENDING,
                    ":sig": signature,
                    ":now": tables.now(),
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    )
    try:
        with tables.transient_errors():
            tables.client().transact_write_items(TransactItems=transaction)
    except tables.client().exceptions.TransactionCanceledException as error:
        return _explain_cancellation(order_id, items, signature, error)

    logger.info("inventory reserved", extra={"reservation": signature})
    return {"order_id": order_id, "reservation": signature, "already_reserved": False}


def _explain_cancellation(
    order_id: str, items: tuple[StockItem, ...], signature: str, error: ClientError
) -> dict[str, Any]:
    reasons = tables.cancellation_reasons(error)
    order_reason = reasons[-1] if reasons else {"Code": "None"}
    if order_reason["Code"] == "ConditionalCheckFailed":
        order = order_reason.get("Item")
        if order is None:
            raise OrderStateError(f"order {order_id} does not exist") from None
        if "reserved_at" in order and "released_at" not in order:
            if order.get("reservation") != signature:
                raise OrderStateError(
                    f"order {order_id} holds reservation {order.get('reservation')!r},"
                    f" not {signature!r}"
                ) from None
            # Our earlier attempt committed and only its response was lost: report success again.
            logger.info("inventory already reserved for this order")
            return {"order_id": order_id, "reservation": signature, "already_reserved": True}
        raise OrderStateError(
            f"order {order_id} cannot be reserved in status {order.get('status')}"
            + (" (reservation already released)" if "released_at" in order else "")
        ) from None

    short = []
    for item, reason in zip(items, reasons, strict=False):
        if reason["Code"] == "ConditionalCheckFailed":
            available = reason.get("Item", {}).get("stock")
            short.append(
                f"{item.sku}: wanted {item.quantity}, "
                + ("unknown SKU" if available is None else f"available {available}")
            )
    if short:
        logger.info("out of stock", extra={"short": short})
        raise OutOfStockError("; ".join(short)) from None
    raise error
