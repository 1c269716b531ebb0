"""End to end on the embedded AWS: the Terraform root deployed, the deployed zips running.

POST -> order + outbox record (one transaction) -> stream -> relay -> bus -> queue -> consumer.

The embedded AWS serves the deployed HTTP API (payload format 2.0) and runs the deployed stream and
queue mappings with Lambda's semantics, committed records only (see catalog.localaws.http_api and
catalog.localaws.event_sources). Nothing here asserts what only the emulator would do.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from outbox_e2e import Snapshot, invariant_problems, new_key, order_body, post
from transactional_outbox import orders as order_ids

from catalog.deploy import expectation_problems, run_scenario
from catalog.drivers.http_api import HttpApiRun
from catalog.patterns import load
from catalog.testing import FaultCoverage, FaultRun, PhaseFaults, run_fault_suite, scenario_gaps

CHECKED = (
    "create-order",
    "duplicate-request",
    "invalid-body",
    "conflicting-key",
    "relay-transient-failure",
    "poison-record",
)
SCENARIOS = load("transactional-outbox").scenarios


@pytest.fixture
def run(outbox_stack: Any) -> HttpApiRun:
    outbox_stack.aws.faults.clear()
    return HttpApiRun(outbox_stack.context())


def _applications(before: Snapshot, after: Snapshot, order: dict[str, Any]) -> int:
    """How many times the order's event was applied between the snapshots: its customer's
    order_count grew by that much (an ADD: a second application counts twice), provided this is
    the customer's only new order."""
    customer = after.orders[order["order_id"]]["customer_id"]
    new = [
        o
        for o, row in after.orders.items()
        if row["customer_id"] == customer and o not in before.orders
    ]
    assert new == [order["order_id"]], f"{customer}: new orders {new}, cannot attribute the count"
    counted = int(after.customers.get(customer, {}).get("order_count", 0))
    return counted - int(before.customers.get(customer, {}).get("order_count", 0))


# ---------------------------------------------------------------- every scenario


def test_every_scenario_is_checked() -> None:
    assert scenario_gaps(SCENARIOS, CHECKED) == {"unchecked": [], "unknown": []}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str, outbox_stack: Any, run: HttpApiRun) -> None:
    scenario = SCENARIOS[name]
    counts_before = run.table_counts()
    before = Snapshot.read(run)
    result = run_scenario(outbox_stack, scenario)
    assert expectation_problems(scenario, result) == [], result.details
    http = result.details["http"]
    snapshot = Snapshot.read(run)
    counts = run.table_counts()
    steps = {s.name: s for s in result.steps}
    created = [h["body"] for h in http if h["status"] == 201]

    if name in ("create-order", "relay-transient-failure", "poison-record"):
        (order,) = created
        assert snapshot.orders[order["order_id"]]["event_id"] == order["event_id"]
        assert snapshot.outbox[order["event_id"]]["status"] == "PUBLISHED"
        assert _applications(before, snapshot, order) == 1
        assert counts["orders"] == counts_before["orders"] + 1
        assert [s.name for s in result.steps] == ["api", "relay", "bus", "consumer"]
        # One event on the bus: the relay never published it twice.
        assert steps["bus"].attempts == 1
        assert steps["consumer"].attempts == 1
    if name == "create-order":
        assert steps["relay"].attempts == 1 and steps["relay"].ok
        assert order["total"] == "28.20"
    if name == "relay-transient-failure":
        # failed before publishing, then after publishing and marking: three invocations.
        assert steps["relay"].attempts == 3
        assert result.details["pollers"]["relay"]["failed_invocations"] == 2
    if name == "duplicate-request":
        assert [h["status"] for h in http] == [201, 201]
        assert http[0]["body"]["order_id"] == http[1]["body"]["order_id"]
        assert http[1]["headers"].get("Idempotent-Replayed") == "true"
        assert counts["orders"] == counts_before["orders"] + 1
        assert _applications(before, snapshot, http[0]["body"]) == 1
        assert steps["bus"].attempts == 1
    if name == "invalid-body":
        assert http[0]["status"] == 400
        fields = {tuple(e["loc"]) for e in http[0]["body"]["errors"]}
        assert fields == {
            ("body", "customer_id"),
            ("body", "items", 0, "sku"),
            ("body", "items", 0, "quantity"),
            ("body", "items", 0, "unit_price"),
            ("body", "coupon"),
        }
        assert counts == counts_before  # nothing written, not even an idempotency record
        assert [s.name for s in result.steps] == ["api"]
    if name == "conflicting-key":
        assert [h["status"] for h in http] == [201, 422]
        order = http[0]["body"]
        assert snapshot.orders[order["order_id"]]["items"][0]["quantity"] == 1  # the first body
        assert counts["orders"] == counts_before["orders"] + 1
        assert _applications(before, snapshot, order) == 1
    if name == "poison-record":
        assert not steps["relay"].ok
        messages = result.details["failure_queues"]["relay_failures"]["messages"]
        (parked,) = [
            m for m in messages if _first_key(run, m["DDBStreamBatchInfo"]) == "poison-0001"
        ]
        assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
        # The parked range starts at the poison record; what follows it was published anyway.
        records = _stream_records(run, parked["DDBStreamBatchInfo"])
        for record in records[1:]:
            event_id = record["dynamodb"]["Keys"]["event_id"]["S"]
            assert snapshot.outbox[event_id]["status"] == "PUBLISHED"
        assert "poison-0001" not in snapshot.ledger_events
        assert result.details["failure_queues"]["dlq"]["new_messages"] == 0
    assert invariant_problems(snapshot) == []


def _stream_records(run: HttpApiRun, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The records an on-failure message points at, read back from the stream (as an operator
    would, within the 24 h retention)."""
    streams = run.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=info["batchSize"])["Records"]
    return records[: info["batchSize"]]


# ---------------------------------------------------------------- one request, followed through


def test_post_to_effect(run: HttpApiRun) -> None:
    body = {
        "customer_id": new_key("cust"),
        "items": [{"sku": "BOX-1", "quantity": 3, "unit_price": "2.50"}],
    }
    before = Snapshot.read(run)
    exchange = post(run, body, key=new_key("e2e"))
    assert exchange.status == 201, exchange.body
    order = exchange.body
    before_relay = Snapshot.read(run)
    # Committed, not yet relayed: the order and its PENDING outbox record, no effect.
    assert before_relay.outbox[order["event_id"]]["status"] == "PENDING"
    assert order["event_id"] not in before_relay.ledger_events
    run.settle()
    after = Snapshot.read(run)
    assert after.outbox[order["event_id"]]["status"] == "PUBLISHED"
    assert _applications(before, after, order) == 1
    entry = after.ledger_events[order["event_id"]]
    assert entry["order_id"] == order["order_id"]
    assert after.customers[body["customer_id"]]["order_count"] == 1
    assert str(after.customers[body["customer_id"]]["total_USD"]) in ("7.5", "7.50")


def test_rolled_back_write_yields_nothing(run: HttpApiRun) -> None:
    """A transaction whose outbox condition fails writes neither the order nor the record."""
    key = new_key("rollback")
    order_id = order_ids.order_id_for(key)
    event_id = order_ids.event_id_for(order_id)
    _collide(run, event_id, order_id)
    exchange = post(
        run,
        {
            "customer_id": "cust-rollback",
            "items": [{"sku": "A-1", "quantity": 1, "unit_price": "1.00"}],
        },
        key=key,
    )
    assert exchange.status == 500  # the Lambda error, as API Gateway reports it
    run.settle()
    snapshot = Snapshot.read(run)
    assert order_id not in snapshot.orders
    assert event_id not in snapshot.ledger_events
    assert invariant_problems(snapshot) == []


def _collide(run: HttpApiRun, event_id: str, order_id: str) -> None:
    """Another writer already holds the outbox key the next order would use: its transaction is
    cancelled and rolled back. The record is valid and already PUBLISHED, so the relay skips it."""
    table = run.outputs["table_names"]["outbox"]
    run.client("dynamodb").put_item(
        TableName=table,
        Item={
            "event_id": {"S": event_id},
            "aggregate_id": {"S": order_id},
            "event_type": {"S": "OrderCreated"},
            "payload": {"S": "{}"},
            "status": {"S": "PUBLISHED"},
            "created_at": {"S": "2025-01-01T00:00:00.000+00:00"},
            "expires_at": {"N": "4102444800"},
        },
    )


# ---------------------------------------------------------------- invariants under faults

# Reproduce: CATALOG_FAULT_SEED=<seed> CATALOG_FAULT_RUNS=<n> (the failure message prints both).
DEFAULT_SEED = 20251123
DEFAULT_RUNS = 200
FUNCTIONS = ("create-order", "relay", "consumer")
ACTIONS = {"new": 45, "duplicate": 20, "conflict": 10, "no-key": 10, "collision": 8, "poison": 7}


def fault_plan(rng: random.Random, names: dict[str, str]) -> PhaseFaults:
    """Per run, up to two failures per function at random phases (before: nothing happened;
    after: the handler ran and its side effects happened, the response was lost). Bounded below
    every retry limit (client 6 attempts, stream mapping 5 retries, queue maxReceiveCount 5), so a
    failure is always transient."""
    pending = {
        names[f]: [rng.choice(["before", "after"]) for _ in range(rng.randint(0, 2))]
        for f in FUNCTIONS
    }
    return PhaseFaults(pending, "InjectedFault")


@dataclass
class RandomRuns:
    """What the random runs committed and rejected, to check once they are all done; the keys
    the last run can have changed (None: it cannot say, read everything)."""

    committed: dict[str, tuple[dict[str, Any], str]] = field(
        default_factory=dict
    )  # key -> (body, order_id)
    rejected_orders: set[str] = field(default_factory=set)
    poison_ids: set[str] = field(default_factory=set)
    changed: tuple[set[str], set[str], set[str]] | None = None  # orders, events, customers


def one_random_run(
    run: HttpApiRun, rng: random.Random, state: RandomRuns, prefix: str, index: int
) -> str:
    (action,) = rng.choices(list(ACTIONS), list(ACTIONS.values()))
    if action in ("duplicate", "conflict") and not state.committed:
        action = "new"
    customer = f"{prefix}-c{rng.randint(1, 12)}"  # this test's own customers and keys
    orders: set[str] = set()
    events: set[str] = set()
    if action in ("new", "poison"):
        if action == "poison":
            poison = f"{prefix}-poison-{index}"
            state.poison_ids.add(poison)
            events.add(poison)
            _poison(run, poison)
        key = f"{prefix}-{index}"
        body = order_body(rng, customer)
        exchange = post(run, body, key=key, attempts=6)
        assert exchange.status == 201, (action, exchange.body)
        state.committed[key] = (body, exchange.body["order_id"])
        orders.add(exchange.body["order_id"])
    elif action == "duplicate":
        key = rng.choice(sorted(state.committed))
        body, order_id = state.committed[key]
        customer = body["customer_id"]
        exchange = post(run, body, key=key, attempts=6)
        assert exchange.status == 201, (action, exchange.body)
        assert exchange.body["order_id"] == order_id
        orders.add(order_id)
    elif action == "conflict":
        key = rng.choice(sorted(state.committed))
        body, order_id = state.committed[key]
        customer = body["customer_id"]
        other = {**body, "items": [{**body["items"][0], "quantity": 99}]}
        exchange = post(run, other, key=key, attempts=6)
        assert exchange.status == 422, (action, exchange.body)
        orders.add(order_id)
    elif action == "no-key":
        # A POST without a key is not safe to retry: the client does not.
        exchange = post(run, order_body(rng, customer), key=None, attempts=1)
        assert exchange.status in (201, 500)
        if exchange.status == 201:
            orders.add(exchange.body["order_id"])
    else:  # collision: the transaction is cancelled and rolled back
        key = f"{prefix}-{index}-collide"
        order_id = order_ids.order_id_for(key)
        _collide(run, order_ids.event_id_for(order_id), order_id)
        exchange = post(run, order_body(rng, customer), key=key, attempts=3)
        assert exchange.status == 500
        state.rejected_orders.add(order_id)
        orders.add(order_id)
    run.settle()
    # A keyless order whose answer was lost may exist under an id nobody knows: read it all.
    unknown = action == "no-key" and exchange.status != 201
    events |= {order_ids.event_id_for(o) for o in orders}
    state.changed = None if unknown else (orders, events, {customer})
    return action


def test_invariants_under_random_faults(outbox_stack: Any, run: HttpApiRun) -> None:
    """Run after run, the invariants over every row (those the run can have changed read again,
    the others as the last check read them) are checked before the next starts; at the end
    every row, read whole."""
    coverage = FaultCoverage("transactional-outbox", list(FUNCTIONS), {})
    state, prefix = RandomRuns(), new_key("fi")
    latest = [Snapshot.read(run)]

    def one_run(fault_run: FaultRun) -> None:
        fault_run.note = one_random_run(run, fault_run.rng, state, prefix, fault_run.index)

    def check(fault_run: FaultRun) -> list[str]:
        changed = state.changed
        latest[0] = Snapshot.read(run) if changed is None else latest[0].refreshed(run, *changed)
        return invariant_problems(latest[0])

    runs = run_fault_suite(run, coverage, (DEFAULT_SEED, DEFAULT_RUNS), fault_plan, one_run, check)
    snapshot = Snapshot.read(run)
    assert invariant_problems(snapshot) == []
    for key, (_, order_id) in state.committed.items():
        assert snapshot.orders[order_id]["idempotency_key"] == key
    assert not state.rejected_orders & set(snapshot.orders)
    assert not state.poison_ids & set(snapshot.ledger_events)
    # Every poison record is parked (its position starts a relay-failures message); DLQ empty.
    parked = run.peek(run.outputs["queue_urls"]["relay_failures"], limit=1000)
    starts = {_first_key(run, m["DDBStreamBatchInfo"]): m["DDBStreamBatchInfo"] for m in parked}
    assert state.poison_ids <= set(starts), {
        k: v for k, v in starts.items() if k not in state.poison_ids
    }
    assert run.queue_depths()["dlq"] == 0
    if runs.runs >= 100:
        assert all(coverage.failed[f] for f in FUNCTIONS), coverage.table(runs.seed)


def _poison(run: HttpApiRun, event_id: str) -> None:
    run.client("dynamodb").put_item(
        TableName=run.outputs["table_names"]["outbox"],
        Item={
            "event_id": {"S": event_id},
            "event_type": {"S": "OrderCreated"},
            "payload": {"S": "{"},
        },
    )


def _first_key(run: HttpApiRun, info: dict[str, Any]) -> str:
    return _stream_records(run, info)[0]["dynamodb"]["Keys"]["event_id"]["S"]


# ---------------------------------------------------------------- concurrency


def test_concurrent_posts_with_duplicate_keys(run: HttpApiRun) -> None:
    """50 concurrent POSTs, 25 keys each sent twice: exactly 25 orders and 25 effects."""
    customer = new_key("conc")
    keys = [new_key("conc") for _ in range(25)]
    bodies = {
        k: {
            "customer_id": customer,
            "items": [{"sku": "CC-1", "quantity": i + 1, "unit_price": "1.00"}],
        }
        for i, k in enumerate(keys)
    }
    requests = [k for k in keys for _ in range(2)]
    random.Random(7).shuffle(requests)

    def send(key: str) -> tuple[str, int, Any]:
        # A client retries 409 (the same key still in progress) until the first one finished.
        for _ in range(50):
            exchange = post(run, bodies[key], key=key)
            if exchange.status != 409:
                return key, exchange.status, exchange.body
            time.sleep(0.05)
        return key, 409, None

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, requests))
    assert all(status == 201 for _, status, _ in results), [r for r in results if r[1] != 201]
    by_key: dict[str, set[str]] = {}
    for key, _, body in results:
        by_key.setdefault(key, set()).add(body["order_id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    run.settle()
    snapshot = Snapshot.read(run)
    mine = [o for o in snapshot.orders.values() if o["customer_id"] == customer]
    assert len(mine) == 25
    # A fresh customer: its ADD counter is the number of applications, one per event.
    assert all(o["event_id"] in snapshot.ledger_events for o in mine)
    assert snapshot.customers[customer]["order_count"] == 25
    assert invariant_problems(snapshot) == []


def test_result_is_json_serialisable(outbox_stack: Any) -> None:
    result = run_scenario(outbox_stack, SCENARIOS["duplicate-request"])
    # What `catalog run --format json` writes must read back as the same values.
    assert result.details["http"] and result.tables
    assert json.loads(json.dumps(result.details)) == result.details
    assert json.loads(json.dumps(result.tables)) == result.tables
