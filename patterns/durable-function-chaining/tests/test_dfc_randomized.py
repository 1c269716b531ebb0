"""Randomized fault injection (seeded, reproducible): hundreds of orders at once, with random
inputs and random failures before and after every worker's side effect. Whatever happens, stock is
conserved, nobody is charged without a completed order, and every failed execution is fully
compensated.

Reproduce a run with DFC_SEED=<seed>; DFC_RUNS raises the count (at least 200 always run).
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter, defaultdict
from typing import Any

from dfc_harness import Chain, invariant_problems, order

SEED = int(os.environ.get("DFC_SEED", "20250611"))
RUNS = max(200, int(os.environ.get("DFC_RUNS", "200")))
BATCH = 25
STOCK = {"SKU-A": 60, "SKU-B": 40, "SKU-C": 15}
FORWARD = {"reserve", "charge", "create", "send"}
P_TRANSIENT = 0.15  # per call and phase: a network error before the handler, or a lost response
P_PERMANENT = 0.02  # per forward call: a bug-like error, never retried


def random_order(rng: random.Random, index: int) -> dict[str, Any]:
    skus = rng.sample(sorted(STOCK), rng.randint(1, 3))
    items = [{"sku": s, "quantity": rng.randint(1, 4), "unit_price_cents": 500} for s in skus]
    payload = order(
        order_id=f"rnd-{SEED}-{index:04d}",
        items=items,
        settlement_seconds=rng.randint(1, 86400),
    )
    if rng.random() < 0.08:
        payload["payment"] = {"token": "tok_declined_generic"}
    if rng.random() < 0.04:
        payload["items"][0]["quantity"] = 0  # invalid
    return payload


class RandomFaults:
    """Deterministic per (order, worker, action, phase, n-th call): threads cannot reorder it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.calls: Counter[tuple[str, str, str, str]] = Counter()
        self.injected: Counter[tuple[str, str, str]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, function: str, event: Any, phase: str) -> str | None:
        action = str(event.get("action"))
        key = (str(event.get("order_id")), function.rsplit("-", 1)[1], action, phase)
        with self.lock:
            self.calls[key] += 1
            nth = self.calls[key]
        rng = random.Random(f"{self.seed}:{key}:{nth}")
        error = None
        if rng.random() < P_TRANSIENT:
            error = "TransientError"
        elif action in FORWARD and phase == "before" and rng.random() < P_PERMANENT:
            error = "PermanentError"
        if error:
            with self.lock:
                self.injected[(key[1], action, f"{error}/{phase}")] += 1
        return error


def test_randomized_faults_never_break_the_invariants(chain: Chain) -> None:
    chain.clear()
    chain.seed(STOCK)
    rng = random.Random(SEED)
    payloads = [random_order(rng, i) for i in range(RUNS)]
    faults = RandomFaults(SEED)

    outcomes = []
    for start in range(0, RUNS, BATCH):
        outcomes += chain.run_many(payloads[start : start + BATCH], policy=faults)

    rows = chain.snapshot()
    problems = invariant_problems(rows, STOCK, outcomes)
    assert problems == [], f"seed {SEED}: {problems[:10]}"

    errors = Counter(o.error for o in outcomes)
    assert set(errors) <= {
        None,
        "InvalidOrderError",
        "OutOfStockError",
        "PaymentDeclinedError",
        "StepFailedError",
    }, errors
    # The run exercised what it claims to: every outcome, and lost responses on the charge.
    assert errors[None] > 0 and errors["StepFailedError"] > 0 and errors["PaymentDeclinedError"] > 0
    assert faults.injected[("payment", "charge", "TransientError/after")] > 0
    # One idempotency key per order, whatever was retried.
    keys: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes:
        for call in outcome.calls_to("payment"):
            keys[call.event["order_id"]].add(call.event["idempotency_key"])
    assert all(len(k) == 1 for k in keys.values())
    assert len(rows["payments"]) == len(keys)
