"""Inventory worker (an ordinary Lambda function): reserve and release stock for an order.

Both actions are idempotent, so the orchestrator may retry them after a lost response:
- reserve: ONE transaction writes the order's reservation row and decrements every SKU with a
  condition (`stock >= quantity`). Either all lines are reserved or none; a repeated reserve finds
  the row and returns it without touching stock again.
- release: puts the stock back and marks the row RELEASED in one transaction, at most once. A
  release with no reservation writes a RELEASED tombstone, so a late duplicate reserve cannot take
  stock after the order was already compensated.

Stock is conserved at all times: seeded stock = `stock` + quantities of RESERVED rows.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ..errors import (
    BadRequestError,
    OutOfStockError,
    ReservationReleasedError,
    TransientError,
)
from ..requests import InventoryRequest, ReserveRequest, parsed
from ..tables import (
    INVENTORY_TABLE,
    cancellation_codes,
    client,
    is_condition_failure,
    is_transaction_cancelled,
    now,
    plain,
    table,
    transient_errors,
)

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()

RESERVATION_PREFIX = "reservation#"
RESERVED = "RESERVED"
RELEASED = "RELEASED"


def reservation_key(order_id: str) -> str:
    return f"{RESERVATION_PREFIX}{order_id}"


def _read_reservation(order_id: str) -> dict[str, Any] | None:
    with transient_errors():
        item = (
            table(INVENTORY_TABLE)
            .get_item(Key={"sku": reservation_key(order_id)}, ConsistentRead=True)
            .get("Item")
        )
    return plain(item) if item else None


def _answer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "reservation_id": row["sku"],
        "status": row["status"],
        "lines": row.get("lines", []),
    }


def reserve(order_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    name = table(INVENTORY_TABLE).name
    row = {
        "sku": reservation_key(order_id),
        "record": "reservation",
        "order_id": order_id,
        "status": RESERVED,
        "lines": [{"sku": line["sku"], "quantity": int(line["quantity"])} for line in lines],
        "reserved_at": now(),
    }
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": row,
                "ConditionExpression": "attribute_not_exists(sku)",
            }
        }
    ]
    for line in row["lines"]:
        items.append(
            {
                "Update": {
                    "TableName": name,
                    "Key": {"sku": line["sku"]},
                    # Atomic: the check and the decrement are one conditional write.
                    "UpdateExpression": "SET stock = stock - :q",
                    "ConditionExpression": "attribute_exists(sku) AND stock >= :q",
                    "ExpressionAttributeValues": {":q": line["quantity"]},
                }
            }
        )
    try:
        with transient_errors():
            client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if is_transaction_cancelled(error):
            codes = cancellation_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                return _existing_reservation(order_id)
            short = [
                line["sku"]
                for line, code in zip(row["lines"], codes[1:], strict=False)
                if code == "ConditionalCheckFailed"
            ]
            raise OutOfStockError(
                f"not enough stock for {', '.join(short) or 'the order'}"
            ) from error
        raise
    logger.info("reserved", extra={"order_id": order_id, "lines": row["lines"]})
    return _answer(row)


def _existing_reservation(order_id: str) -> dict[str, Any]:
    existing = _read_reservation(order_id)
    if existing is None:  # pragma: no cover - the condition said it exists
        raise BadRequestError(f"reservation of {order_id} vanished")
    if existing["status"] == RELEASED:
        raise ReservationReleasedError(f"the reservation of {order_id} was already released")
    logger.info("reserve repeated: returning the first result", extra={"order_id": order_id})
    return _answer(existing)


def release(order_id: str) -> dict[str, Any]:
    name = table(INVENTORY_TABLE).name
    for _ in range(3):  # a concurrent reserve/release can change the row between read and write
        existing = _read_reservation(order_id)
        if existing is None:
            try:
                with transient_errors():
                    table(INVENTORY_TABLE).put_item(
                        Item={
                            "sku": reservation_key(order_id),
                            "record": "reservation",
                            "order_id": order_id,
                            "status": RELEASED,
                            "lines": [],
                            "released_at": now(),
                        },
                        ConditionExpression="attribute_not_exists(sku)",
                    )
            except ClientError as error:
                if is_condition_failure(error):
                    continue
                raise
            logger.info("release before any reservation: tombstone", extra={"order_id": order_id})
            return {"reservation_id": reservation_key(order_id), "status": RELEASED, "lines": []}
        if existing["status"] == RELEASED:
            return _answer(existing)
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"sku": reservation_key(order_id)},
                    "UpdateExpression": "SET #s = :released, released_at = :at",
                    "ConditionExpression": "#s = :reserved",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":released": RELEASED,
                        ":reserved": RESERVED,
                        ":at": now(),
                    },
                }
            }
        ]
        for line in existing["lines"]:
            items.append(
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"sku": line["sku"]},
                        "UpdateExpression": "SET stock = stock + :q",
                        "ExpressionAttributeValues": {":q": int(line["quantity"])},
                    }
                }
            )
        try:
            with transient_errors():
                client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if is_transaction_cancelled(error):
                continue  # released concurrently: the next read says so
            raise
        logger.info("released", extra={"order_id": order_id, "lines": existing["lines"]})
        return {**_answer(existing), "status": RELEASED}
    raise TransientError(f"the reservation of {order_id} kept changing; try again")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parsed(InventoryRequest, event)
    if isinstance(request, ReserveRequest):
        return reserve(request.order_id, request.lines)
    return release(request.order_id)
