"""Notification worker (an ordinary Lambda function): send the order confirmation.

Sending is simulated with a structured log line. The message id is derived from the order id, so a
retried send is recognisable as the same message (a real email or SMS provider would take it as
its idempotency/deduplication key).
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from ..requests import SendRequest, parsed

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parsed(SendRequest, event)
    order_id = request.order_id
    message_id = "msg-" + hashlib.sha256(f"confirmation:{order_id}".encode()).hexdigest()[:16]
    logger.info(
        "order confirmation sent",
        extra={
            "order_id": order_id,
            "message_id": message_id,
            "tracking_id": request.tracking_id,
        },
    )
    return {"message_id": message_id, "channel": "email", "status": "SENT"}
