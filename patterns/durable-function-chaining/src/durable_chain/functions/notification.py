"""Notification worker (an ordinary Lambda function): send the order confirmation.

Sending is simulated with a structured log line. The message id is derived from the order id, so a
retried send is recognisable as the same message (a real email or SMS provider would take it as
its idempotency/deduplication key).
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from ..errors import BadRequestError

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("action") != "send":
        raise BadRequestError("action must be 'send'")
    order_id, email = event.get("order_id"), event.get("customer_email")
    if not (isinstance(order_id, str) and isinstance(email, str)):
        raise BadRequestError("order_id and customer_email are required")
    message_id = "msg-" + hashlib.sha256(f"confirmation:{order_id}".encode()).hexdigest()[:16]
    logger.info(
        "order confirmation sent",
        extra={
            "order_id": order_id,
            "message_id": message_id,
            "tracking_id": event.get("tracking_id"),
        },
    )
    return {"message_id": message_id, "channel": "email", "status": "SENT"}
