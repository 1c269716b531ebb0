"""A simulated card payment provider, deterministic so tests can reason about it.

The pattern does not call a real provider; this module stands in for one and behaves like the
well-known ones on the points the saga depends on:
- a charge or refund carries an idempotency key; the same key always yields the same charge id, so
  a retried call can never produce a second charge;
- the card token `tok_declined` is declined (PaymentDeclinedError), every other token is accepted;
- the token `tok_unavailable` makes the provider unreachable (TransientError), to show what the
  state machine retries.
Replace `charge` and `refund` with calls to your provider, passing the same idempotency keys.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from .errors import PaymentDeclinedError, TransientError

DECLINED_TOKEN = "tok_declined"
UNAVAILABLE_TOKEN = "tok_unavailable"


def _reference(prefix: str, idempotency_key: str) -> str:
    return prefix + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def charge(token: str, amount: Decimal, idempotency_key: str) -> str:
    """Charge `amount` to the card `token`; returns the provider's charge id."""
    if token == DECLINED_TOKEN:
        raise PaymentDeclinedError(f"card declined for {amount} (token {token})")
    if token == UNAVAILABLE_TOKEN:
        raise TransientError("payment provider unavailable")
    return _reference("ch_", idempotency_key)


def refund(charge_id: str, amount: Decimal, idempotency_key: str) -> str:
    """Refund a charge in full; returns the provider's refund id."""
    return _reference("re_", idempotency_key + ":refund:" + charge_id)
