"""The orders and stock the durable-function-chaining tests start from.

A module of its own, with no catalog import, so the standalone tests (which `catalog export`
keeps) use the same order as the harness's tests.
"""

from __future__ import annotations

from typing import Any

KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
STOCK = {"SKU-BOOK": 5, "SKU-PEN": 10}


def order(**overrides: Any) -> dict[str, Any]:
    """A valid order (2 books + 1 pen = 2699 cents); keyword arguments replace fields."""
    base: dict[str, Any] = {
        "customer_id": "cust-42",
        "customer_email": "ana@example.com",
        "currency": "USD",
        "items": [
            {"sku": "SKU-BOOK", "quantity": 2, "unit_price_cents": 1250},
            {"sku": "SKU-PEN", "quantity": 1, "unit_price_cents": 199},
        ],
        "payment": {"token": "tok_visa"},
        "shipping_address": {
            "name": "Ana Silva",
            "line1": "1 Main St",
            "city": "Seattle",
            "postal_code": "98101",
            "country": "US",
        },
        "settlement_seconds": 3600,
    }
    base.update(overrides)
    return base
