"""Shipping worker (an ordinary Lambda function): create or cancel a shipment with a carrier.

The carrier is simulated. Like real carrier APIs, it is idempotent by order reference: the tracking
number is derived from the order id, so a retried create returns the same shipment and a repeated
cancel is harmless. Replace `_carrier_*` with calls to your carrier, passing the order id as the
idempotency reference.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from ..requests import CreateShipmentRequest, ShippingRequest, parsed

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()


def _tracking_id(order_id: str) -> str:
    return "TRK" + hashlib.sha256(order_id.encode()).hexdigest()[:12].upper()


def _carrier_create(order_id: str, address: dict[str, str]) -> dict[str, Any]:
    logger.info("shipment created", extra={"order_id": order_id, "country": address["country"]})
    return {"tracking_id": _tracking_id(order_id), "carrier": "demo-carrier", "status": "CREATED"}


def _carrier_cancel(order_id: str) -> dict[str, Any]:
    logger.info("shipment cancelled", extra={"order_id": order_id})
    return {"tracking_id": _tracking_id(order_id), "carrier": "demo-carrier", "status": "CANCELLED"}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parsed(ShippingRequest, event)
    if isinstance(request, CreateShipmentRequest):
        return _carrier_create(request.order_id, request.address.model_dump())
    return _carrier_cancel(request.order_id)
