"""charge-payment: charge the order's total once, whatever the number of attempts.

Event: {"order_id": "...", "amount": "25.00", "token": "tok_..."}.
The payment record is keyed by an idempotency key derived from the order (`<order_id>:charge`):
- an existing record means an earlier attempt charged: its result is returned, nothing is charged;
- otherwise the (simulated) provider is called with that key, then the record is put with
  `attribute_not_exists`, so two racing attempts still leave one record;
- a declined card raises PaymentDeclinedError before anything is recorded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import payments, tables
from ..errors import OrderStateError
from ..models import CHARGED, PAYMENT_CHARGED, RESERVED, ChargeEvent, validated
from ..observability import make_logger

logger = make_logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = validated(ChargeEvent, event)
    order_id, amount, token = request.order_id, request.amount, request.token
    logger.append_keys(order_id=order_id)
    key = tables.payment_key(order_id)
    payments_table = tables.table(tables.PAYMENTS_TABLE_ENV)

    with tables.transient_errors():
        existing = payments_table.get_item(Key={"idempotency_key": key}, ConsistentRead=True)
    record = existing.get("Item")
    if record is None:
        charge_id = payments.charge(token, amount, key)  # declined -> raises, nothing recorded
        record = {
            "idempotency_key": key,
            "order_id": order_id,
            "amount": amount,
            "status": PAYMENT_CHARGED,
            "charge_id": charge_id,
            "charged_at": tables.now(),
        }
        try:
            with tables.transient_errors():
                payments_table.put_item(
                    Item=record,
                    ConditionExpression="attribute_not_exists(idempotency_key)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            logger.info("payment charged", extra={"amount": str(amount), "charge_id": charge_id})
        except tables.client().exceptions.ConditionalCheckFailedException as error:
            record = tables.old_item(error) or record  # a concurrent attempt recorded it first
    else:
        logger.info("payment already charged", extra={"charge_id": record.get("charge_id")})

    if record.get("status") != PAYMENT_CHARGED:
        raise OrderStateError(f"payment {key} is {record.get('status')}, cannot charge again")
    if Decimal(record["amount"]) != amount:
        raise OrderStateError(f"payment {key} was charged {record['amount']}, not {amount}")

    _mark_order_charged(order_id, key)
    return {
        "order_id": order_id,
        "idempotency_key": key,
        "charge_id": str(record["charge_id"]),
        "amount": str(amount),
        "status": PAYMENT_CHARGED,
    }


def _mark_order_charged(order_id: str, key: str) -> None:
    try:
        with tables.transient_errors():
            tables.table(tables.ORDERS_TABLE_ENV).update_item(
                Key={"order_id": order_id},
                UpdateExpression=(
                    "SET #status = :charged, payment_key = :key,"
                    " charged_at = if_not_exists(charged_at, :now)"
                ),
                ConditionExpression=(
                    "attribute_exists(order_id) AND #status IN (:reserved, :charged)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":charged": CHARGED,
                    ":reserved": RESERVED,
                    ":key": key,
                    ":now": tables.now(),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
    except tables.client().exceptions.ConditionalCheckFailedException as error:
        status = (tables.old_item(error) or {}).get("status", "missing")
        # The charge stands; the saga's catch refunds it (refund is keyed the same way).
        raise OrderStateError(f"order {order_id} is {status}, cannot record the charge") from None
