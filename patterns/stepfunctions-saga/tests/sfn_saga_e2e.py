"""Driving the deployed saga in end-to-end tests: run executions, read history and tables, check
the invariants a saga must keep whatever fails."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

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

    # ------------------------------------------------------------------ tables
    def reset(self) -> None:
        self.aws.faults.clear()
        for logical, table in self.table_names.items():
            key = TABLE_KEYS[logical]
            for item in self._scan(table):
                self.dynamodb.delete_item(
                    TableName=table, Key={key: _serializer.serialize(item[key])}
                )

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
        return {o["order_id"]: o for o in self._scan(self.table_names["orders"])}

    def payments(self) -> dict[str, dict[str, Any]]:
        return {p["order_id"]: p for p in self._scan(self.table_names["payments"])}

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
        """Wait until every execution has finished. Polls one execution at a time: describing all
        of them in a tight loop would steal the interpreter from the executions themselves."""
        pending, deadline = list(arns), time.monotonic() + timeout
        while pending:
            if self.sfn.describe_execution(executionArn=pending[0])["status"] != "RUNNING":
                pending.pop(0)
                continue
            assert time.monotonic() < deadline, f"{len(pending)} executions still running"
            time.sleep(0.01)

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
        """What must hold after any mix of successes, failures and compensations."""
        orders, payments, stock = self.orders(), self.payments(), self.stock()
        assert all(r.status in ("SUCCEEDED", "FAILED") for r in runs), "execution not finished"

        held: Counter[str] = Counter()
        for order in orders.values():
            # no order left half-done
            assert order["status"] in ("SHIPPED", "CANCELLED"), order
            if order["status"] == "SHIPPED":
                for item in order["items"]:
                    held[item["sku"]] += int(item["quantity"])
            elif "reserved_at" in order:
                assert "released_at" in order, f"cancelled order kept its stock: {order}"
        for sku, initial in initial_stock.items():
            assert stock.get(sku, 0) >= 0, f"{sku} negative"
            assert initial == stock.get(sku, 0) + held[sku], (
                f"{sku}: initial {initial} != current {stock.get(sku, 0)} + shipped {held[sku]}"
            )

        for order_id, payment in payments.items():
            order = orders.get(order_id, {})
            if payment["status"] == "CHARGED":  # a net charge needs a shipped order
                assert order.get("status") == "SHIPPED", (payment, order)
                assert payment["amount"] == order["amount"]
            else:
                assert payment["status"] == "REFUNDED" and order.get("status") == "CANCELLED"
        for order_id, order in orders.items():
            if order["status"] == "SHIPPED":
                assert payments.get(order_id, {}).get("status") == "CHARGED", order

        for run in runs:
            order = orders.get(run.order_id or "")
            if run.status == "SUCCEEDED":
                assert order is not None and order["status"] == "SHIPPED", run
            elif order is not None and order["saga_id"] == run.arn:
                assert order["status"] == "CANCELLED", run


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value
