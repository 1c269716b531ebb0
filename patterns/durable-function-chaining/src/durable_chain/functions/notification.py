"""Notification worker (an ordinary Lambda function): send the order confirmation.

Sending is simulated with a structured log line. The message id is derived from the order id, so a
retried send is recognisable as the same message (a real email or SMS provider would take it as
its idempotency/deduplication key).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from ..errors import BadRequestError

logger = logging.getLogger(__name__)


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
