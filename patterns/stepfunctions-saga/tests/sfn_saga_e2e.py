"""Driving the deployed saga in end-to-end tests: run executions, read history and tables, check
the invariants a saga must keep whatever fails."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from sfn_saga import tables

from catalog.testing import running_code

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
FORWARD = ["CreateOrder", "ReserveInventory", "ChargePayment", "ShipOrder"]
COMPENSATIONS = ["RefundPayment", "ReleaseInventory", "CancelOrder"]
STATE_OF_FUNCTION = {
    "create-order": "CreateOrder",
    "reserve-inventory": "ReserveInventory",
    "charge-payment": "ChargePayment",
    "ship-order": "ShipOrder",
    "refund-payment": "RefundPayment",
    "release-inventory": "ReleaseInventory",
    "cancel-order": "CancelOrder",
}
TABLE_KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def load_scenario(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def scenario_names() -> list[str]:
    return sorted(p.stem for p in EVENTS_DIR.glob("*.json"))


def order_id_of(event: Any) -> str | None:
    """The order an invocation works on (create-order gets the order wrapped in `order`)."""
    if isinstance(event, dict):
        if isinstance(event.get("order"), dict):
            return event["order"].get("order_id")
        return event.get("order_id")
    return None


@dataclass
class Run:
    arn: str
    order_id: str | None
    status: str
    error: str | None
    cause: str | None
    tasks: list[str]  # Task states entered, in order
    attempts: Counter[str] = field(default_factory=Counter)  # Lambda invocations per state

    @property
    def compensations(self) -> list[str]:
        return [t for t in self.tasks if t in COMPENSATIONS]


class Saga:
    """The deployed pattern as the tests see it (works with the plugin or the local stand-in)."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.aws = stack.aws
        self.outputs = stack.outputs
        self.sfn = self.aws.client("stepfunctions")
        self.dynamodb = self.aws.client("dynamodb")
        self.table_names: dict[str, str] = self.outputs["table_names"]
        self.logical_names = {v: k for k, v in self.outputs["function_names"].items()}

    # ------------------------------------------------------------------ functions and faults
    def logical(self, function_name: str) -> str:
        """'create-order' whether given the deployed name or the pattern's own name."""
        if function_name in self.logical_names:
            return self.logical_names[function_name]
        for name in STATE_OF_FUNCTION:
            if function_name == name or function_name.endswith("-" + name):
                return name
        return function_name

    def add_faults(self, faults: list[dict[str, Any]]) -> None:
        for fault in faults:
            self.aws.faults.add(
                fault["function"],
                fault["error"],
                fault.get("when", "before"),
                fault.get("times", 1),
            )

    @contextmanager
    def running(self, function: str, code: bytes, original: bytes) -> Iterator[None]:
        """The deployed `function` runs `code` (a deliberately broken build) until the block ends."""
        name = self.outputs["function_names"][function]
        with running_code(self.aws.client("lambda"), name, code, original):
            yield

    @contextmanager
    def defined_as(self, definition: str) -> Iterator[None]:
        """The deployed state machine runs `definition` until the block ends."""
        arn = self.outputs["state_machine_arn"]
        original = self.sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        self.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        try:
            yield
        finally:
            self.sfn.update_state_machine(stateMachineArn=arn, definition=original)

    def definition(self) -> str:
        return str(
            self.sfn.describe_state_machine(stateMachineArn=self.outputs["state_machine_arn"])[
                "definition"
            ]
        )

    # ------------------------------------------------------------------ tables
    def reset(self) -> None:
        self.aws.faults.clear()
        for logical, table in self.table_names.items():
            key = TABLE_KEYS[logical]
            deletes = [
                {"DeleteRequest": {"Key": {key: _serializer.serialize(item[key])}}}
                for item in self._scan(table)
            ]
            for first in range(0, len(deletes), 25):  # BatchWriteItem takes 25 requests
                request = {table: deletes[first : first + 25]}
                while request:
                    request = self.dynamodb.batch_write_item(RequestItems=request)[
                        "UnprocessedItems"
                    ]

    def seed(self, seed: dict[str, list[dict[str, Any]]]) -> None:
        """A scenario's `seed`: items written to the named tables before the run."""
        for logical, items in seed.items():
            for item in items:
                self.dynamodb.put_item(
                    TableName=self.table_names[logical],
                    Item={k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items()},
                )

    def _scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items += [
                {k: _deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]
            ]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def orders(self) -> dict[str, dict[str, Any]]:
        # The orders table is keyed by order_id: one row per order, a dict hides nothing.
        return {o["order_id"]: o for o in self._scan(self.table_names["orders"])}

    def payments(self) -> list[dict[str, Any]]:
        """Every payment row (keyed by idempotency key: an order may have several)."""
        return self._scan(self.table_names["payments"])

    def payments_of(self, order_id: str) -> list[dict[str, Any]]:
        return [p for p in self.payments() if p["order_id"] == order_id]

    def payment_of(self, order_id: str) -> dict[str, Any] | None:
        """The order's one payment row, if any; more than one is a double charge."""
        rows = self.payments_of(order_id)
        assert len(rows) <= 1, f"{order_id}: {len(rows)} payment rows: {rows}"
        return rows[0] if rows else None

    def stock(self) -> dict[str, int]:
        return {i["sku"]: int(i["stock"]) for i in self._scan(self.table_names["inventory"])}

    # ------------------------------------------------------------------ executions
    def start(self, payload: Any) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.outputs["state_machine_arn"],
            name=f"run-{uuid.uuid4().hex[:20]}",  # moto's executing mode needs an explicit name
            input=json.dumps(payload),
        )["executionArn"]

    def wait(self, arns: list[str], timeout: float = 180.0) -> None:
        """Wait until every execution has finished: woken by the embedded AWS as each one ends,
        never polling (a poll is a request that competes with the executions)."""
        pending = self.aws.executions.wait(arns, timeout)
        assert not pending, f"{len(pending)} executions still running after {timeout:.0f} s"

    def result(self, arn: str) -> Run:
        described = self.sfn.describe_execution(executionArn=arn)
        events = self.history(arn)
        tasks, attempts, state = [], Counter[str](), None
        for event in events:
            if event["type"] == "TaskStateEntered":
                state = event["stateEnteredEventDetails"]["name"]
                tasks.append(state)
            elif event["type"] == "LambdaFunctionScheduled" and state:
                attempts[state] += 1
        payload = json.loads(described.get("input") or "null")
        return Run(
            arn=arn,
            order_id=payload.get("order_id") if isinstance(payload, dict) else None,
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            tasks=tasks,
            attempts=attempts,
        )

    def history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def run(self, payload: Any) -> Run:
        arn = self.start(payload)
        self.wait([arn])
        return self.result(arn)

    def run_batch(self, payloads: list[Any]) -> list[Run]:
        """Start every execution, then wait: they run concurrently."""
        arns = [self.start(p) for p in payloads]
        self.wait(arns)
        return [self.result(arn) for arn in arns]

    # ------------------------------------------------------------------ invariants
    def check_invariants(self, initial_stock: dict[str, int], runs: list[Run]) -> None:
        problems = self.invariant_problems(initial_stock, runs)
        assert not problems, "\n".join(problems)

    def invariant_problems(self, initial_stock: dict[str, int], runs: list[Run]) -> list[str]:
        """What must hold after any mix of successes, failures and compensations, counted over
        every row: see `problems_in`."""
        return problems_in(Rows(self.orders(), self.stock(), self.payments()), initial_stock, runs)

    def own_rows(self, order_id: str, skus: list[str]) -> Rows:
        """One order's own rows (its order, its payment under the order's idempotency key) and
        the stock of `skus`, read in one consistent BatchGetItem: what `problems_in` needs to
        judge one run, whatever the number of rows other runs left."""
        wanted = {
            "orders": [order_id],
            "inventory": skus,
            "payments": [tables.payment_key(order_id)],
        }
        by_table = {self.table_names[logical]: logical for logical in wanted}
        request: dict[str, Any] = {
            self.table_names[logical]: {
                "Keys": [{TABLE_KEYS[logical]: {"S": key}} for key in keys],
                "ConsistentRead": True,
            }
            for logical, keys in wanted.items()
        }
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        while request:
            answer = self.dynamodb.batch_get_item(RequestItems=request)
            for table, items in answer["Responses"].items():
                found[by_table[table]] += [
                    {k: _deserializer.deserialize(v) for k, v in i.items()} for i in items
                ]
            request = answer.get("UnprocessedKeys") or {}
        return Rows(
            {o["order_id"]: o for o in found["orders"]},
            {i["sku"]: int(i["stock"]) for i in found["inventory"]},
            found["payments"],
        )


@dataclass
class Rows:
    """Table rows as the invariants read them: orders by id, stock by SKU, payment rows."""

    orders: dict[str, dict[str, Any]]
    stock: dict[str, int]
    payments: list[dict[str, Any]]

    def shipped_units(self) -> Counter[str]:
        """Units that left the stock with the SHIPPED orders among these rows."""
        shipped: Counter[str] = Counter()
        for order in self.orders.values():
            if order["status"] == "SHIPPED":
                for item in order["items"]:
                    shipped[item["sku"]] += int(item["quantity"])
        return shipped


def problems_in(rows: Rows, initial_stock: dict[str, int], runs: list[Run]) -> list[str]:
    """What must hold after any mix of successes, failures and compensations, counted over
    `rows`: stock conserved (`initial_stock` = current + shipped by the orders in `rows`), one net
    charge per shipped order and none otherwise, no order left half-done, compensations in
    reverse order of the steps they undo."""
    orders, stock = rows.orders, rows.stock
    payments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payment in rows.payments:
        payments[payment["order_id"]].append(payment)
    problems = [f"{r.arn}: {r.status}, not finished" for r in runs if r.status not in FINISHED]

    held = rows.shipped_units()
    for order_id, order in orders.items():
        if order["status"] not in ("SHIPPED", "CANCELLED"):
            problems.append(f"{order_id}: left {order['status']}")
        if order["status"] != "SHIPPED" and "reserved_at" in order and "released_at" not in order:
            problems.append(f"{order_id}: cancelled but its stock was never released")
    for sku, initial in initial_stock.items():
        current = stock.get(sku, 0)
        if current < 0:
            problems.append(f"{sku}: negative stock {current}")
        if initial != current + held[sku]:
            problems.append(
                f"stock of {sku} not conserved: initial {initial} != current {current}"
                f" + shipped {held[sku]}"
            )

    for order_id in sorted(set(orders) | set(payments)):
        order, paid = orders.get(order_id), payments.get(order_id, [])
        charged = [p for p in paid if p["status"] == "CHARGED"]
        status = order["status"] if order else None
        if len(paid) > 1:
            problems.append(f"{order_id}: {len(paid)} payment rows ({len(charged)} CHARGED)")
        if status == "SHIPPED":
            if len(charged) != 1 or charged[0]["amount"] != order["amount"]:  # type: ignore[index]
                problems.append(f"{order_id}: shipped with {len(charged)} net charges")
        elif charged:
            problems.append(f"{order_id}: {status}, yet {len(charged)} net charges")
        if any(p["status"] not in ("CHARGED", "REFUNDED") for p in paid):
            problems.append(f"{order_id}: payment rows {[p['status'] for p in paid]}")

    for run in runs:
        order = orders.get(run.order_id or "")
        if run.status == "SUCCEEDED" and (order is None or order["status"] != "SHIPPED"):
            problems.append(f"{run.arn}: succeeded, order {order}")
        elif (
            run.status == "FAILED"
            and order is not None
            and order["saga_id"] == run.arn
            and order["status"] != "CANCELLED"
        ):
            problems.append(f"{run.arn}: failed, order {order['status']}")
        problems += compensation_order_problems(run)
    return problems


FINISHED = ("SUCCEEDED", "FAILED")
UNDOES = {
    "RefundPayment": "ChargePayment",
    "ReleaseInventory": "ReserveInventory",
    "CancelOrder": "CreateOrder",
}


def compensation_order_problems(run: Run) -> list[str]:
    """Compensations run after the forward steps, undo only steps that ran, in reverse order."""
    forward = [t for t in run.tasks if t in FORWARD]
    compensations = run.compensations
    problems = []
    if run.tasks != forward + compensations:
        problems.append(f"{run.arn}: compensations interleaved with forward steps: {run.tasks}")
    undone = [UNDOES[c] for c in compensations]
    if any(step not in forward for step in undone):
        problems.append(f"{run.arn}: compensates a step that never ran: {run.tasks}")
    if undone != sorted(undone, key=FORWARD.index, reverse=True) or len(set(undone)) < len(undone):
        problems.append(f"{run.arn}: compensations not in reverse order: {compensations}")
    return problems


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value
