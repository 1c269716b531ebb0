"""End to end on the embedded AWS: the Terraform root deployed, the deployed zips running.

messages -> source queue -> event-source mapping (batch 10, ReportBatchItemFailures) -> processor
-> readings + sensor_totals; after maxReceiveCount (3) receives -> DLQ -> redrive -> source queue.

The embedded AWS runs the deployed mapping with Lambda's semantics and moto moves a message to the
DLQ on the receive after its maxReceiveCount-th (catalog.localaws.queues). Nothing here asserts
what only the emulator would do.
"""

from __future__ import annotations

import json
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
from batch_e2e import Ledger, Observed, Sent, discard, invariant_problems, parked_messages

from catalog.deploy import expectation_problems, run_scenario
from catalog.drivers.queue import QueueRun
from catalog.patterns import load
from catalog.testing import FaultCoverage, FaultRun, PhaseFaults, run_fault_suite, scenario_gaps

CHECKED = (
    "clean-batch",
    "poison-message",
    "transient-failure",
    "redrive-after-fix",
    "duplicate-delivery",
)
SCENARIOS = load("sqs-batch-processing").scenarios
MAX_RECEIVE_COUNT = 3


@pytest.fixture
def run(batch_stack: Any) -> QueueRun:
    batch_stack.aws.faults.clear()
    return QueueRun(batch_stack.context())


def _totals(run: QueueRun) -> dict[str, tuple[int, Decimal]]:
    return {
        str(r["sensor_id"]): (int(r["reading_count"]), Decimal(str(r["value_sum"])))
        for r in run.table_rows()["sensor_totals"]
    }


def _sensor_delta(before: dict[str, Any], after: dict[str, Any], sensor: str) -> tuple[int, Any]:
    count, total = after.get(sensor, (0, Decimal(0)))
    old_count, old_total = before.get(sensor, (0, Decimal(0)))
    return count - old_count, total - old_total


# ---------------------------------------------------------------- every scenario


def test_every_scenario_is_checked() -> None:
    assert scenario_gaps(SCENARIOS, CHECKED) == {"unchecked": [], "unknown": []}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str, batch_stack: Any, run: QueueRun) -> None:
    scenario = SCENARIOS[name]
    valid = [m["body"] for m in scenario.input["messages"] if m["body"]["value"] != "warm"]
    sensors = {b["sensor_id"] for b in valid}
    before, dlq_before = _totals(run), len(parked_messages(run))
    rows_before = len(run.table_rows()["readings"])
    result = run_scenario(batch_stack, scenario)
    assert expectation_problems(scenario, result) == [], result.details
    after = _totals(run)
    processor = result.details["pollers"]["processor"]
    steps = {s.name: s for s in result.steps}
    sent_ids = {s["message_id"] for s in result.details["sent"]}
    applied = {r["message_id"] for r in result.tables["readings"]}

    # Every valid reading applied exactly once: one row each, and the ADDed totals grew by
    # exactly the readings' count and sum (a second application would count twice).
    assert len(run.table_rows()["readings"]) == rows_before + len(valid)
    for sensor in sensors:
        mine = [b for b in valid if b["sensor_id"] == sensor]
        assert _sensor_delta(before, after, sensor) == (
            len(mine),
            sum(Decimal(b["value"]) for b in mine),
        )
    assert run.queue_depths()["source"] == 0
    assert steps["send"].attempts == len(scenario.input["messages"]) + len(
        scenario.input.get("afterwards", [])
    )

    if name == "clean-batch":
        assert applied == sent_ids
        assert (processor["invocations"], processor["records"]) == (1, 10)
        assert processor["failed_invocations"] == 0
    if name == "poison-message":
        # The batch of ten, then the poison message alone, maxReceiveCount times in all.
        assert (processor["invocations"], processor["records"]) == (MAX_RECEIVE_COUNT, 12)
        assert processor["failed_invocations"] == MAX_RECEIVE_COUNT
        assert result.details["failure_queues"]["dlq"]["new_messages"] == 1
        parked = [p for p in parked_messages(run) if p.message_id in sent_ids]
        assert [json.loads(p.body)["value"] for p in parked] == ["warm"]
        assert len(applied) == 9 and applied < sent_ids
        assert len(parked_messages(run)) == dlq_before + 1
    if name == "transient-failure":
        assert (processor["invocations"], processor["failed_invocations"]) == (3, 2)
        assert applied == sent_ids
    if name == "duplicate-delivery":
        # Applied, answer lost, the same messages delivered again: a no-op the second time.
        assert (processor["invocations"], processor["records"]) == (2, 6)
        assert applied == sent_ids
    if name == "redrive-after-fix":
        (redrive,) = result.details["invoked"]
        # Everything parked moves: these three and what earlier runs left (a poison message
        # fails again and is parked again).
        assert redrive["ok"] and redrive["result"]["moved"] == 3 + dlq_before, redrive
        assert processor["failed_invocations"] >= MAX_RECEIVE_COUNT  # the outage, at least
        # Applied under the first delivery's ids, delivered as the redriven copies.
        assert applied == sent_ids
        rows = result.tables["readings"]
        assert all(r["delivery_message_id"] not in sent_ids for r in rows)
        assert len(parked_messages(run)) == dlq_before


def test_result_is_json_serialisable(batch_stack: Any) -> None:
    result = run_scenario(batch_stack, SCENARIOS["poison-message"])
    assert result.details["sent"] and result.tables
    assert json.loads(json.dumps(result.details)) == result.details
    assert json.loads(json.dumps(result.tables)) == result.tables


# ---------------------------------------------------------------- invariant under faults

# Reproduce: CATALOG_FAULT_SEED=<seed> CATALOG_FAULT_RUNS=<n> (the failure message prints both).
DEFAULT_SEED = 20261201
DEFAULT_RUNS = 200
STEPS = ("processor", "retried", "redelivered", "dead-letter", "redrive", "discard")
POISON_BODIES = (
    lambda sensor: {"sensor_id": sensor, "metric": "temperature", "value": "warm"},
    lambda sensor: "{not json",
    lambda sensor: {"sensor_id": sensor, "metric": "colour", "value": "1", "taken_at": "x"},
)


def fault_plan(rng: random.Random, names: dict[str, str]) -> PhaseFaults:
    """Per run: processor failures at random phases (before: nothing happened; after: the batch
    was applied and the answer lost, so SQS delivers it again), sometimes as many as
    maxReceiveCount or more (an outage that parks valid messages), and sometimes a failure of
    the redrive function."""
    failures = rng.choices([0, 1, 2, 3, 4], weights=[35, 20, 15, 18, 12])[0]
    pending = {
        names["processor"]: [rng.choice(["before", "after"]) for _ in range(failures)],
        names["redrive"]: [rng.choice(["before", "after"])] if rng.random() < 0.15 else [],
    }
    return PhaseFaults(pending, "ServiceUnavailableException")


def one_random_run(run: QueueRun, ledger: Ledger, prefix: str, fault_run: FaultRun) -> set[str]:
    """Send a random batch, let the stack settle, maybe redrive; the keys of the messages sent."""
    rng, url = fault_run.rng, run.outputs["queue_urls"]["source"]
    run.activity.clear()
    dlq_before = run.queue_depths()["dlq"]
    sent_now = set()
    for _ in range(rng.randint(1, 14)):
        sensor = f"{prefix}-s{rng.randint(1, 5)}"
        if rng.random() < 0.1:
            body, value = rng.choice(POISON_BODIES)(sensor), None
        else:
            value = Decimal(rng.randint(-5000, 5000)) / 100
            body = {
                "sensor_id": sensor,
                "metric": rng.choice(["temperature", "humidity", "pressure"]),
                "value": str(value),
                "taken_at": f"2026-01-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
            }
        sent = run.send(url, {"body": body})
        ledger.sent[sent["message_id"]] = Sent(sensor, value, body)
        sent_now.add(sent["message_id"])
    run.settle()
    if run.queue_depths()["dlq"] > dlq_before:
        fault_run.reached.add("dead-letter")
    if rng.random() < 0.35:
        run.invoke("redrive", {"max_messages": rng.randint(5, 60)})
        run.settle()
        fault_run.reached.add("redrive")
    return sent_now


def test_invariant_under_random_faults(batch_stack: Any, run: QueueRun) -> None:
    """Run after run, the invariant over what the run can have changed is checked before the
    next run starts (batch_e2e: `Observed.after_run`); every row and parked message at the end."""
    coverage = FaultCoverage("sqs-batch-processing", list(STEPS), {})
    ledger, prefix = Ledger(), f"fi-{uuid.uuid4().hex[:8]}"  # this test's own sensors
    sent: set[str] = set()

    def one_run(fault_run: FaultRun) -> None:
        sent.clear()
        sent.update(one_random_run(run, ledger, prefix, fault_run))

    def check(fault_run: FaultRun) -> list[str]:
        observed = Observed.after_run(run, ledger, sent)
        problems = invariant_problems(ledger, observed)
        processor = run.activity.get("processor")
        if processor and processor.failed_invocations:
            fault_run.reached.add("retried")
        injected = fault_run.faults.injected
        if any(run.short_name(f) == "processor" and p == "after" for f, p in injected):
            fault_run.reached.add("redelivered")  # applied, answer lost: the same messages again
        if fault_run.rng.random() < 0.5:  # the operator deletes what can never be processed
            poison = [p for p in observed.parked if ledger.sent[p.key].value is None]
            if poison:
                discard(run, poison)
                ledger.discarded.update(p.key for p in poison)
                fault_run.reached.add("discard")
        return problems

    runs = run_fault_suite(run, coverage, (DEFAULT_SEED, DEFAULT_RUNS), fault_plan, one_run, check)
    # Every row and every parked message, read whole: nothing changed behind the ledger's back.
    everything = Observed.read(run, ledger.sensors, set(ledger.sent))
    assert invariant_problems(ledger, everything) == []
    assert {str(r["message_id"]) for r in everything.readings} == set(ledger.applied)
    if runs.runs >= 100:
        assert coverage.failed["processor"] and coverage.failed["redrive"], coverage.table(
            runs.seed
        )
