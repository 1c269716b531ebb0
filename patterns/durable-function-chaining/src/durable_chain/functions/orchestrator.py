"""The durable orchestrator: validate -> reserve inventory -> payment idempotency key -> charge ->
create shipment -> settlement wait -> send confirmation -> complete the order.

Lambda durable functions run this handler again from the top after every suspension (a worker
invoke, a wait, a retry backoff) and REPLAY it: completed operations return their checkpointed
results instead of running again. The handler must therefore take the same path with the same
values on every replay. The rules this file follows:

- every clock read, uuid and random value happens inside a step (`orders.py`, `retry.py`), so a
  replay reuses the checkpointed value;
- no step runs inside another step; grouping uses child contexts (`invoking.call_worker`);
- workers are called with `context.invoke` on qualified names, never with a boto3 Lambda client;
- control flow depends only on the input, the environment and checkpointed results.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python import (
    DurableContext,
    DurableOperationError,
    StepError,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import Duration
from aws_lambda_powertools import Logger

from ..errors import (
    BUSINESS_ERRORS,
    CompensationFailedError,
    InvalidOrderError,
    StepFailedError,
)
from ..invoking import Saga, call_worker, error_name, require_qualified
from ..orders import (
    cancel_order,
    complete_order,
    create_order,
    mint_idempotency_key,
    mint_order_id,
)
from ..retry import COMPENSATION, NETWORK, NEVER


@dataclass(frozen=True)
class Workers:
    """Qualified worker names (`name:alias`), from the environment the deployment sets."""

    inventory: str
    payment: str
    shipping: str
    notification: str

    @classmethod
    def from_environment(cls) -> Workers:
        def qualified(variable: str) -> str:
            value = os.environ.get(variable)
            if not value:
                raise RuntimeError(f"environment variable {variable} is not set")
            return require_qualified(value)

        return cls(
            inventory=qualified("INVENTORY_FUNCTION"),
            payment=qualified("PAYMENT_FUNCTION"),
            shipping=qualified("SHIPPING_FUNCTION"),
            notification=qualified("NOTIFICATION_FUNCTION"),
        )


def _validate(event: Any, _: Any) -> Any:
    # Imported when the step runs, not with the handler: pydantic and the Powertools parser cost
    # more than boto3 to import, and a replay (every invocation after the first) reuses the
    # checkpointed result without running this step.
    from ..model import validate

    return validate(event)


def process_order(event: Any, context: DurableContext) -> dict[str, Any]:
    workers = Workers.from_environment()
    execution_arn = context.execution_context.durable_execution_arn

    try:
        order = context.step(
            functools.partial(_validate, event), name="validate-order", config=NEVER.step_config()
        )
    except StepError as error:
        if error_name(error) == "InvalidOrderError":
            raise InvalidOrderError.from_message(error.message) from None
        raise StepFailedError(f"validate-order failed with {error_name(error)}") from None

    saga = Saga(context)
    order_id: str | None = None
    current = "assign-order-id"
    try:
        order_id = context.step(
            functools.partial(mint_order_id, order),
            name="assign-order-id",
            config=NEVER.step_config(),
        )
        context.logger.info("order accepted", extra={"order_id": order_id})

        current = "create-order"
        # Each compensation is registered before its step runs: the step may fail after its side
        # effect happened (a lost response), and every compensation copes with "nothing to undo".
        saga.register(
            "compensate-cancel-order",
            lambda ctx, reason: ctx.step(
                functools.partial(cancel_order, order_id, execution_arn, reason),
                name="compensate-cancel-order",
                config=COMPENSATION.step_config(),
            ),
        )
        context.step(
            functools.partial(create_order, order_id, order, execution_arn),
            name="create-order",
            config=NETWORK.step_config(),
        )

        current = "reserve-inventory"
        saga.register(
            "compensate-release-inventory",
            lambda ctx, _reason: call_worker(
                ctx,
                "compensate-release-inventory",
                workers.inventory,
                {"action": "release", "order_id": order_id},
                COMPENSATION,
            ),
        )
        reservation = call_worker(
            context,
            "reserve-inventory",
            workers.inventory,
            {"action": "reserve", "order_id": order_id, "lines": order["lines"]},
            NETWORK,
        )

        current = "payment-idempotency-key"
        idempotency_key = context.step(
            mint_idempotency_key, name="payment-idempotency-key", config=NEVER.step_config()
        )

        current = "charge-payment"
        saga.register(
            "compensate-refund-payment",
            lambda ctx, _reason: call_worker(
                ctx,
                "compensate-refund-payment",
                workers.payment,
                {"action": "refund", "order_id": order_id, "idempotency_key": idempotency_key},
                COMPENSATION,
            ),
        )
        payment = call_worker(
            context,
            "charge-payment",
            workers.payment,
            {
                "action": "charge",
                "order_id": order_id,
                "idempotency_key": idempotency_key,
                "amount_cents": order["total_cents"],
                "currency": order["currency"],
                "token": order["payment_token"],
            },
            NETWORK,
        )

        current = "create-shipment"
        saga.register(
            "compensate-cancel-shipment",
            lambda ctx, _reason: call_worker(
                ctx,
                "compensate-cancel-shipment",
                workers.shipping,
                {"action": "cancel", "order_id": order_id},
                COMPENSATION,
            ),
        )
        shipment = call_worker(
            context,
            "create-shipment",
            workers.shipping,
            {"action": "create", "order_id": order_id, "address": order["shipping_address"]},
            NETWORK,
        )

        # A durable wait: the function is not running (or billed) while it waits, and the
        # duration comes from the input, so every replay waits on the same operation.
        current = "settlement-period"
        context.wait(Duration.from_seconds(order["settlement_seconds"]), name="settlement-period")

        current = "send-confirmation"
        confirmation = call_worker(
            context,
            "send-confirmation",
            workers.notification,
            {
                "action": "send",
                "order_id": order_id,
                "customer_email": order["customer_email"],
                "tracking_id": shipment["tracking_id"],
            },
            NETWORK,
        )

        current = "complete-order"
        summary = {"payment_id": payment["payment_id"], "tracking_id": shipment["tracking_id"]}
        completed_at = context.step(
            functools.partial(complete_order, order_id, execution_arn, summary),
            name="complete-order",
            config=NETWORK.step_config(),
        )
    except DurableOperationError as error:
        cause = error_name(error)
        context.logger.info(
            "order failed; compensating",
            extra={"order_id": order_id, "step": current, "cause": cause},
        )
        business = BUSINESS_ERRORS.get(cause)
        if business is not None and business.nothing_to_undo is not None:
            saga.discard(business.nothing_to_undo)
        failed = saga.compensate(f"{current}: {cause}")
        if failed:
            raise CompensationFailedError(failed, cause) from None
        if business is not None:
            raise business(error.message or cause) from None
        if cause == "StepFailedError":
            raise StepFailedError(error.message or current) from None
        raise StepFailedError(f"{current} failed with {cause}: {error.message}") from None

    return {
        "order_id": order_id,
        "status": "COMPLETED",
        "total_cents": order["total_cents"],
        "currency": order["currency"],
        "reservation_id": reservation["reservation_id"],
        "payment_id": payment["payment_id"],
        "tracking_id": shipment["tracking_id"],
        "confirmation_id": confirmation["message_id"],
        "completed_at": completed_at,
    }


# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    # context.logger writes through Powertools (structured JSON) and stays quiet during replays.
    context.set_logger(logger)
    return process_order(event, context)
