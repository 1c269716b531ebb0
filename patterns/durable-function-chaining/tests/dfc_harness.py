"""Helpers of the durable-function-chaining tests: runs, table snapshots, invariants, spies.

Runs go through the catalog's `durable_local` driver (`LocalDurableApp`): the orchestrator under the
SDK's local runner, workers bound in-process, tables on the embedded AWS.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python import DurableContext
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

# The tests import the order builder from here too.
from dfc_orders import KEYS, STOCK
from dfc_orders import order as order

from catalog.drivers.base import DriverContext
from catalog.drivers.durable_local import LocalDurableApp, WorkerCall
from catalog.drivers.durable_operations import attempts_of, short_error_name
from catalog.drivers.observe import plain
from catalog.localaws.faults import FaultInjector, FaultPolicy


@dataclass
class Op:
    """A top-level operation of an execution, flattened for assertions."""

    name: str
    type: str
    status: str
    attempts: int
    start: datetime | None
    end: datetime | None
    children: list[Op]
    raw: Any = field(repr=False, default=None)

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"


@dataclass
class Outcome:
    arn: str
    status: str
    error: str | None
    message: str | None
    result: dict[str, Any] | None
    ops: list[Op]
    calls: list[WorkerCall]

    def op(self, name: str) -> Op:
        for op in self.ops:
            if op.name == name:
                return op
        raise AssertionError(f"no operation {name!r} in {[o.name for o in self.ops]}")

    @property
    def names(self) -> list[str]:
        return [op.name for op in self.ops]

    @property
    def compensations(self) -> list[Op]:
        return [op for op in self.ops if op.name.startswith("compensate-")]

    def calls_to(self, worker: str, action: str | None = None) -> list[WorkerCall]:
        return [
            c
            for c in self.calls
            if c.function.endswith("-" + worker)
            and (action is None or (isinstance(c.event, dict) and c.event.get("action") == action))
        ]


def to_op(raw: Any) -> Op:
    return Op(
        name=str(raw.name),
        type=str(raw.operation_type.value),
        status=str(raw.status.value),
        attempts=attempts_of(raw),
        start=raw.start_timestamp,
        end=raw.end_timestamp,
        children=[to_op(c) for c in getattr(raw, "child_operations", None) or []],
        raw=raw,
    )


def outcome_of(arn: str, result: Any, calls: list[WorkerCall]) -> Outcome:
    return Outcome(
        arn=arn,
        status=result.execution_status.value if result.execution_status else result.status.value,
        error=short_error_name(result.error.type) if result.error else None,
        message=result.error.message if result.error else None,
        result=json.loads(result.result) if result.result else None,
        ops=[to_op(op) for op in result.operations],
        calls=calls,
    )


@dataclass
class Chain:
    """The deployed pattern, driven locally."""

    ctx: DriverContext

    @property
    def table_names(self) -> dict[str, str]:
        return dict(self.ctx.outputs["table_names"])

    # --- tables -----------------------------------------------------------------------------

    def clear(self) -> None:
        client = self.ctx.client("dynamodb")
        for logical, name in self.table_names.items():
            key = KEYS[logical]
            for page in client.get_paginator("scan").paginate(
                TableName=name, ProjectionExpression="#k", ExpressionAttributeNames={"#k": key}
            ):
                deletes = [{"DeleteRequest": {"Key": {key: item[key]}}} for item in page["Items"]]
                for first in range(0, len(deletes), 25):  # BatchWriteItem takes 25 requests
                    request = {name: deletes[first : first + 25]}
                    while request:
                        request = client.batch_write_item(RequestItems=request)["UnprocessedItems"]

    def seed(self, stock: Mapping[str, int] = STOCK) -> None:
        client = self.ctx.client("dynamodb")
        serializer = TypeSerializer()
        for sku, units in stock.items():
            client.put_item(
                TableName=self.table_names["inventory"],
                Item={k: serializer.serialize(v) for k, v in {"sku": sku, "stock": units}.items()},
            )

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        client = self.ctx.client("dynamodb")
        deserializer = TypeDeserializer()
        rows: dict[str, list[dict[str, Any]]] = {}
        for logical, name in self.table_names.items():
            items: list[dict[str, Any]] = []
            for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                items += [
                    plain({k: deserializer.deserialize(v) for k, v in i.items()})
                    for i in page["Items"]
                ]
            rows[logical] = items
        return rows

    # --- runs -------------------------------------------------------------------------------

    @contextmanager
    def app(
        self,
        faults: FaultInjector | None = None,
        policy: FaultPolicy | None = None,
        overrides: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    ) -> Iterator[LocalDurableApp]:
        injector = faults or FaultInjector()
        if policy is not None:
            injector.set_policy(policy)
        with LocalDurableApp(self.ctx, faults=injector, overrides=overrides or {}) as app:
            yield app

    def run(
        self,
        payload: Any,
        faults: list[tuple[str, str, str, int]] = (),  # type: ignore[assignment]
        policy: FaultPolicy | None = None,
        overrides: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    ) -> Outcome:
        """One execution. `faults`: (function, error, when, times) as in a scenario file."""
        injector = FaultInjector()
        for function, error, when, times in faults:
            injector.add(function, error, when, times)  # type: ignore[arg-type]
        with self.app(injector, policy, overrides) as app:
            arn = app.start(payload)
            result = app.wait(arn)
            return outcome_of(arn, result, list(app.calls))

    def run_many(
        self,
        payloads: list[dict[str, Any]],
        policy: FaultPolicy | None = None,
    ) -> list[Outcome]:
        """Executions started together; calls split by the order id each payload carries."""
        with self.app(policy=policy) as app:
            arns = [app.start(p) for p in payloads]
            results = [app.wait(arn) for arn in arns]
            calls = list(app.calls)
        outcomes = []
        for payload, arn, result in zip(payloads, arns, results, strict=True):
            outcome = outcome_of(arn, result, [])
            wanted = payload.get("order_id")
            outcome.calls = [
                c for c in calls if isinstance(c.event, dict) and c.event.get("order_id") == wanted
            ]
            outcomes.append(outcome)
        return outcomes


# --- invariants -----------------------------------------------------------------------------


def invariant_problems(
    rows: Mapping[str, list[dict[str, Any]]],
    seeded: Mapping[str, int],
    outcomes: list[Outcome] = (),  # type: ignore[assignment]
) -> list[str]:
    """What must hold after any set of executions, whatever failed and whenever."""
    problems: list[str] = []
    orders = {o["order_id"]: o for o in rows["orders"]}
    stock = {r["sku"]: r for r in rows["inventory"] if r.get("record") != "reservation"}
    reservations = {r["order_id"]: r for r in rows["inventory"] if r.get("record") == "reservation"}
    payments_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payment in rows["payments"]:
        payments_by_order[payment["order_id"]].append(payment)

    # Stock is conserved: seeded = on hand + held by live reservations.
    held: dict[str, int] = defaultdict(int)
    for reservation in reservations.values():
        if reservation["status"] == "RESERVED":
            for line in reservation["lines"]:
                held[line["sku"]] += int(line["quantity"])
    for sku, units in seeded.items():
        on_hand = int(stock.get(sku, {}).get("stock", 0))
        if on_hand + held[sku] != units:
            problems.append(f"{sku}: {on_hand} on hand + {held[sku]} reserved != {units} seeded")
        if on_hand < 0:
            problems.append(f"{sku}: negative stock {on_hand}")

    for order_id, order_row in orders.items():
        status = order_row["status"]
        reservation = reservations.get(order_id)
        charges = [p for p in payments_by_order.get(order_id, []) if p["status"] == "CHARGED"]
        if len(payments_by_order.get(order_id, [])) > 1:
            problems.append(f"{order_id}: {len(payments_by_order[order_id])} payment records")
        if status == "PENDING":
            problems.append(f"{order_id}: left PENDING")
        elif status == "COMPLETED":
            if not reservation or reservation["status"] != "RESERVED":
                problems.append(f"{order_id}: COMPLETED without a live reservation")
            if len(charges) != 1 or int(charges[0]["amount_cents"]) != order_row["total_cents"]:
                problems.append(f"{order_id}: COMPLETED without exactly one matching charge")
        elif status == "CANCELLED":
            if reservation and reservation["status"] != "RELEASED":
                problems.append(f"{order_id}: CANCELLED but stock still reserved")
            if charges:
                problems.append(f"{order_id}: CANCELLED but still charged (no net charge allowed)")
    for order_id, reservation in reservations.items():
        if reservation["status"] == "RESERVED" and orders.get(order_id, {}).get("status") != (
            "COMPLETED"
        ):
            problems.append(f"{order_id}: stock reserved for an order that is not COMPLETED")
    for order_id, payments in payments_by_order.items():
        if any(p["status"] == "CHARGED" for p in payments) and (
            orders.get(order_id, {}).get("status") != "COMPLETED"
        ):
            problems.append(f"{order_id}: charged without a completed order")

    for outcome in outcomes:
        order_id = (outcome.result or {}).get("order_id") or _order_of(outcome, orders)
        row = orders.get(order_id) if order_id else None
        if outcome.status == "SUCCEEDED":
            if not row or row["status"] != "COMPLETED":
                problems.append(f"{outcome.arn}: SUCCEEDED but order {order_id} not COMPLETED")
        elif row is not None and row["status"] != "CANCELLED":
            problems.append(f"{outcome.arn}: FAILED but order {order_id} is {row['status']}")
    return problems


def _order_of(outcome: Outcome, orders: Mapping[str, dict[str, Any]]) -> str | None:
    for order_id, row in orders.items():
        if row.get("execution_arn") == outcome.arn:
            return order_id
    return None


# --- determinism spies ----------------------------------------------------------------------


@dataclass
class ReplaySpy:
    """Records what the handler passes to `context.invoke` and `context.wait` on EVERY invocation.

    Lambda durable functions re-run the handler from the top after each suspension; replayed
    operations return their checkpoints, but the handler still computes and passes their inputs.
    A deterministic handler passes identical inputs to the same operation on every replay. A
    value made outside a step (a uuid, a clock read) changes between invocations and shows up
    here. The spy also flags durable operations started inside a step body (nested steps).
    """

    seen: dict[tuple[str, str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    nested: list[str] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _key(self, ctx: DurableContext, kind: str, name: str | None) -> tuple[str, str, str]:
        arn = ctx.execution_context.durable_execution_arn
        parent = str(getattr(ctx, "_parent_id", "") or "")  # names repeat across child contexts
        return (arn, f"{kind}:{parent}", str(name))

    def _note(self, key: tuple[str, str, str], value: Any) -> None:
        with self._lock:
            self.seen[key].append(json.dumps(value, sort_keys=True, default=str))

    def _guard(self, what: str) -> None:
        if getattr(self._local, "depth", 0) > 0:
            with self._lock:
                self.nested.append(what)

    @contextmanager
    def installed(self) -> Iterator[ReplaySpy]:
        original_invoke = DurableContext.invoke
        original_wait = DurableContext.wait
        original_step = DurableContext.step
        spy = self

        def invoke(
            ctx: DurableContext, function_name: str, payload: Any, *a: Any, **kw: Any
        ) -> Any:
            spy._guard(f"invoke {kw.get('name')}")
            spy._note(spy._key(ctx, "invoke", kw.get("name")), [function_name, payload])
            return original_invoke(ctx, function_name, payload, *a, **kw)

        def wait(ctx: DurableContext, duration: Any, name: str | None = None) -> None:
            spy._guard(f"wait {name}")
            spy._note(spy._key(ctx, "wait", name), duration.to_seconds())
            return original_wait(ctx, duration, name)

        def step(
            ctx: DurableContext, func: Any, name: str | None = None, config: Any = None
        ) -> Any:
            spy._guard(f"step {name}")

            def body(step_context: Any) -> Any:
                spy._local.depth = getattr(spy._local, "depth", 0) + 1
                try:
                    return func(step_context)
                finally:
                    spy._local.depth -= 1

            return original_step(ctx, body, name, config)

        DurableContext.invoke = invoke  # type: ignore[method-assign]
        DurableContext.wait = wait  # type: ignore[method-assign]
        DurableContext.step = step  # type: ignore[method-assign]
        try:
            yield self
        finally:
            DurableContext.invoke = original_invoke  # type: ignore[method-assign]
            DurableContext.wait = original_wait  # type: ignore[method-assign]
            DurableContext.step = original_step  # type: ignore[method-assign]

    def divergent(self) -> dict[tuple[str, str, str], list[str]]:
        """Operations whose inputs differed between invocations (empty: deterministic)."""
        with self._lock:
            return {k: sorted(set(v)) for k, v in self.seen.items() if len(set(v)) > 1}

    def replays(self) -> int:
        """How many times inputs were recorded beyond the first (proof that replay happened)."""
        with self._lock:
            return sum(len(v) - 1 for v in self.seen.values())
