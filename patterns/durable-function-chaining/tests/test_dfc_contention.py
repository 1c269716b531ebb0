"""Contention: many concurrent orders for scarce stock, on the tables of the embedded AWS.

The reservation is one conditional transaction (`stock >= quantity` checked and decremented in the
same write), so exactly as many orders complete as there are units; the others fail with
OutOfStockError and leave nothing behind.
"""

from __future__ import annotations

from dfc_harness import Chain, invariant_problems, order


def test_fifty_concurrent_orders_for_ten_units_complete_exactly_ten(chain: Chain) -> None:
    chain.clear()
    chain.seed({"SKU-BOOK": 10})
    payloads = [
        order(
            order_id=f"rush-{n:02d}",
            items=[{"sku": "SKU-BOOK", "quantity": 1, "unit_price_cents": 1250}],
            settlement_seconds=60,
        )
        for n in range(50)
    ]

    outcomes = chain.run_many(payloads)

    completed = [o for o in outcomes if o.status == "SUCCEEDED"]
    assert len(completed) == 10
    assert {o.error for o in outcomes if o.status != "SUCCEEDED"} == {"OutOfStockError"}
    rows = chain.snapshot()
    assert next(r for r in rows["inventory"] if r["sku"] == "SKU-BOOK")["stock"] == 0
    assert sum(r["status"] == "CHARGED" for r in rows["payments"]) == 10
    assert sum(r["status"] == "COMPLETED" for r in rows["orders"]) == 10
    assert invariant_problems(rows, {"SKU-BOOK": 10}, outcomes) == []
