"""The orders table, written only by the orchestrator, only from inside durable steps.

Every function here is a step body: it may read the clock (`now()`), and it is safe to run again
(a step is at-least-once: it can re-run if the invocation ends before its result is checkpointed).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aws_durable_execution_sdk_python import StepContext
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from .errors import DuplicateOrderError
from .tables import ORDERS_TABLE, is_condition_failure, now, table, transient_errors

if TYPE_CHECKING:  # annotations only: the model module imports pydantic
    from .model import Order

PENDING = "PENDING"
COMPLETED = "COMPLETED"
CANCELLED = "CANCELLED"


def mint_order_id(order: Order, _: StepContext) -> str:
    """The client's order id, or a new one. A uuid: only ever called inside a step."""
    return order["order_id"] or f"ord-{uuid.uuid4().hex[:16]}"


def mint_idempotency_key(_: StepContext) -> str:
    """The payment idempotency key: minted once, checkpointed, reused by every charge attempt
    and by the refund. A uuid: only ever called inside a step."""
    return str(uuid.uuid4())


def create_order(order_id: str, order: Order, execution_arn: str, _: StepContext) -> str:
    """Record the order as PENDING, owned by this execution (a re-run finds its own row)."""
    created_at = now()
    try:
        with transient_errors():
            table(ORDERS_TABLE).put_item(
                Item={
                    "order_id": order_id,
                    "execution_arn": execution_arn,
                    "status": PENDING,
                    "customer_id": order["customer_id"],
                    "currency": order["currency"],
                    "lines": order["lines"],
                    "total_cents": order["total_cents"],
                    "created_at": created_at,
                    "updated_at": created_at,
                },
                ConditionExpression="attribute_not_exists(order_id) OR execution_arn = :me",
                ExpressionAttributeValues={":me": execution_arn},
            )
    except ClientError as error:
        if is_condition_failure(error):
            raise DuplicateOrderError(f"order {order_id} belongs to another execution") from error
        raise
    return created_at


def _update_own_order(order_id: str, execution_arn: str, fields: dict[str, Any]) -> None:
    """SET `fields` on the order if this execution owns it and it is PENDING or COMPLETED (boto3
    writes the condition's placeholders; the fields get theirs here)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": value for i, value in enumerate(fields.values())}
    assignments = ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
    owned = Attr("execution_arn").eq(execution_arn) & Attr("status").is_in([PENDING, COMPLETED])
    with transient_errors():
        table(ORDERS_TABLE).update_item(
            Key={"order_id": order_id},
            UpdateExpression=f"SET {assignments}",
            ConditionExpression=owned,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def complete_order(
    order_id: str, execution_arn: str, summary: dict[str, Any], _: StepContext
) -> str:
    completed_at = now()
    _update_own_order(
        order_id,
        execution_arn,
        {
            "status": COMPLETED,
            "payment_id": summary["payment_id"],
            "tracking_id": summary["tracking_id"],
            "completed_at": completed_at,
            "updated_at": completed_at,
        },
    )
    return completed_at


def cancel_order(order_id: str, execution_arn: str, reason: str, _: StepContext) -> str:
    """This execution's order -> CANCELLED; already CANCELLED or never created is fine. Never
    touches another execution's order. A COMPLETED order is cancelled too: it can only be this
    execution's if `complete-order` wrote it and then failed, and the execution is now failing, so
    its payment is being refunded and its stock released."""
    cancelled_at = now()
    try:
        _update_own_order(
            order_id,
            execution_arn,
            {
                "status": CANCELLED,
                "failure": reason,
                "cancelled_at": cancelled_at,
                "updated_at": cancelled_at,
            },
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        with transient_errors():
            item = (
                table(ORDERS_TABLE)
                .get_item(Key={"order_id": order_id}, ConsistentRead=True)
                .get("Item")
            )
        if item is None:
            return "never created"  # create-order failed before its write: nothing to cancel
        if item.get("execution_arn") != execution_arn or item["status"] != CANCELLED:
            raise
        return str(item.get("cancelled_at", cancelled_at))
    return cancelled_at
