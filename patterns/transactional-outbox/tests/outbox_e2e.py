"""Helpers of the end-to-end tests: requests, table snapshots and the pattern's invariants.

The invariants are checked on what the stack actually stored, read back after it settled:
- every order has exactly one outbox record (same event id), marked PUBLISHED;
- every order's event was applied exactly once: one ledger entry per event id, and per customer
  `order_count` and `total_<currency>` equal to the orders' (the ADD effect would double-count a
  second application);
- no event is invented: every ledger entry belongs to an order;
- an outbox record without an order (a rolled-back write never leaves one; the tests write such
  records on purpose as poison or collision) has no effect.

After each randomized run the check reads only the rows the run can have changed
(`Snapshot.refreshed`: its orders, their outbox records and ledger entries, its customer) and
takes the other rows from the previous snapshot; a whole-table read (`Snapshot.read`) checks
everything at the end.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalog.drivers.http_api import HttpApiRun, HttpExchange


def order_body(rng: Any, customer: str) -> dict[str, Any]:
    lines = rng.randint(1, 3)
    return {
        "customer_id": customer,
        "currency": rng.choice(["EUR", "USD"]),
        "items": [
            {
                "sku": f"SKU-{rng.randint(1, 99)}",
                "quantity": rng.randint(1, 5),
                "unit_price": f"{rng.randint(1, 9999) / 100:.2f}",
            }
            for _ in range(lines)
        ],
    }


def post(
    run: HttpApiRun,
    body: Any,
    key: str | None = None,
    attempts: int = 1,
    retry_on: tuple[int, ...] = (500, 503, 409),
) -> HttpExchange:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return run.send(
        {
            "method": "POST",
            "path": "/orders",
            "headers": headers,
            "body": body,
            "retry": {"attempts": attempts, "on": list(retry_on)},
        }
    )


def new_key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


@dataclass
class Snapshot:
    orders: dict[str, dict[str, Any]]  # order_id -> row
    outbox: dict[str, dict[str, Any]]  # event_id -> row
    ledger_events: dict[str, dict[str, Any]]  # event_id -> row
    customers: dict[str, dict[str, Any]]  # customer_id -> row

    @classmethod
    def read(cls, run: HttpApiRun) -> Snapshot:
        tables = run.table_rows()
        return cls.from_rows(tables["orders"], tables["outbox"], tables["ledger"])

    def refreshed(
        self, run: HttpApiRun, orders: set[str], events: set[str], customers: set[str]
    ) -> Snapshot:
        """This snapshot with the rows under these keys read again, by key; the rest as it was."""
        ledger_keys = {f"EVENT#{e}" for e in events} | {f"CUSTOMER#{c}" for c in customers}
        fresh = Snapshot.from_rows(
            run.rows_by_key("orders", "order_id", orders),
            run.rows_by_key("outbox", "event_id", events),
            run.rows_by_key("ledger", "pk", ledger_keys),
        )
        return Snapshot(
            orders=_merged(self.orders, orders, fresh.orders),
            outbox=_merged(self.outbox, events, fresh.outbox),
            ledger_events=_merged(self.ledger_events, events, fresh.ledger_events),
            customers=_merged(self.customers, customers, fresh.customers),
        )

    @classmethod
    def from_rows(
        cls,
        orders: list[dict[str, Any]],
        outbox: list[dict[str, Any]],
        ledger: list[dict[str, Any]],
    ) -> Snapshot:
        ledger_events, customers = {}, {}
        for row in ledger:
            kind, _, ident = str(row["pk"]).partition("#")
            if kind == "EVENT":
                ledger_events[ident] = row
            elif kind == "CUSTOMER":
                customers[ident] = row
        return cls(
            orders={r["order_id"]: r for r in orders},
            outbox={r["event_id"]: r for r in outbox},
            ledger_events=ledger_events,
            customers=customers,
        )


def _merged(
    old: dict[str, dict[str, Any]], keys: set[str], fresh: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    rows = {k: v for k, v in old.items() if k not in keys}
    rows.update(fresh)
    return rows


def invariant_problems(snapshot: Snapshot) -> list[str]:
    problems: list[str] = []
    outbox_by_order = defaultdict(list)
    for event_id, row in snapshot.outbox.items():
        outbox_by_order[row.get("aggregate_id")].append(event_id)
    for order_id, order in snapshot.orders.items():
        events = outbox_by_order.get(order_id, [])
        if events != [order["event_id"]]:
            problems.append(f"order {order_id}: outbox records {events}, expected one")
            continue
        if snapshot.outbox[order["event_id"]].get("status") != "PUBLISHED":
            problems.append(f"order {order_id}: outbox record not marked PUBLISHED")
        if order["event_id"] not in snapshot.ledger_events:
            problems.append(f"order {order_id}: event {order['event_id']} never applied")
    events_of_orders = {o["event_id"] for o in snapshot.orders.values()}
    for event_id in snapshot.ledger_events:
        if event_id not in events_of_orders:
            problems.append(f"ledger entry for {event_id}: no such order (invented event)")
    count: Counter[str] = Counter()
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for order in snapshot.orders.values():
        count[order["customer_id"]] += 1
        totals[(order["customer_id"], order["currency"])] += Decimal(str(order["total"]))
    for customer, row in snapshot.customers.items():
        if row.get("order_count") != count.get(customer, 0):
            problems.append(
                f"customer {customer}: order_count {row.get('order_count')}, "
                f"orders {count.get(customer, 0)} (an event applied twice or never)"
            )
        for (who, currency), total in totals.items():
            if who == customer and Decimal(str(row.get(f"total_{currency}", 0))) != total:
                problems.append(
                    f"customer {customer}: total_{currency} {row.get(f'total_{currency}')} != {total}"
                )
    for customer in count:
        if customer not in snapshot.customers:
            problems.append(f"customer {customer}: no effect at all")
    return problems
