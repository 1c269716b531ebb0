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
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from batch_e2e import Ledger, Observed, Sent, discard, invariant_problems, parked_messages

from catalog.deploy import expectation_problems, run_scenario
from catalog.drivers.queue import QueueRun
from catalog.patterns import load
from catalog.testing import FaultCoverage, FaultRuns, fault_runs

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
    assert set(SCENARIOS) == {
        "clean-batch",
        "poison-message",
        "transient-failure",
        "redrive-after-fix",
        "duplicate-delivery",
    }


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


class FaultPlan:
    """Per run: processor failures at random phases (before: nothing happened; after: the batch
    was applied and the answer lost, so SQS delivers it again), sometimes as many as
    maxReceiveCount or more (an outage that parks valid messages), and sometimes a failure of
    the redrive function."""

    def __init__(self, rng: random.Random, names: dict[str, str]) -> None:
        failures = rng.choices([0, 1, 2, 3, 4], weights=[35, 20, 15, 18, 12])[0]
        self.pending = {
            names["processor"]: [rng.choice(["before", "after"]) for _ in range(failures)],
            names["redrive"]: [rng.choice(["before", "after"])] if rng.random() < 0.15 else [],
        }
        self.injected: list[tuple[str, str]] = []

    def __call__(self, function_name: str, event: Any, phase: str) -> str | None:
        queue = self.pending.get(function_name)
        if queue and queue[0] == phase:
            queue.pop(0)
            self.injected.append((function_name, phase))
            return "ServiceUnavailableException"
        return None


def one_random_run(
    run: QueueRun, rng: random.Random, ledger: Ledger, prefix: str, plan: FaultPlan
) -> set[str]:
    """Send a random batch, let the stack settle, maybe redrive; the steps the run reached."""
    url = run.outputs["queue_urls"]["source"]
    dlq_before = run.queue_depths()["dlq"]
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
    run.settle()
    reached = set()
    if run.queue_depths()["dlq"] > dlq_before:
        reached.add("dead-letter")
    if rng.random() < 0.35:
        run.invoke("redrive", {"max_messages": rng.randint(5, 60)})
        run.settle()
        reached.add("redrive")
    return reached


def random_runs(batch_stack: Any, run: QueueRun, runs: FaultRuns) -> FaultCoverage:
    """Run after run, the invariant over every row and parked message is checked before the
    next run starts."""
    aws = batch_stack.aws
    coverage = FaultCoverage("sqs-batch-processing", list(STEPS), {})
    ledger, prefix = Ledger(), f"fi-{uuid.uuid4().hex[:8]}"  # this test's own sensors
    try:
        for index in range(runs.runs):
            rng = runs.rng(index)
            plan = FaultPlan(rng, run.function_names)
            aws.faults.set_policy(plan)
            seen, started = len(aws.invocations), time.perf_counter()
            run.activity.clear()
            reached = one_random_run(run, rng, ledger, prefix, plan)
            aws.faults.set_policy(None)
            ran = time.perf_counter()
            observed = Observed.read(run, ledger.sensors, set(ledger.sent))
            problems = invariant_problems(ledger, observed)
            invoked = Counter(run.short_name(i.function_name) for i in aws.invocations[seen:])
            processor = run.activity.get("processor")
            if invoked["processor"]:
                reached.add("processor")
            if processor and processor.failed_invocations:
                reached.add("retried")
            if any(run.short_name(f) == "processor" and p == "after" for f, p in plan.injected):
                reached.add("redelivered")  # applied, answer lost: the same messages again
            if rng.random() < 0.5:  # the operator deletes what can never be processed
                poison = [p for p in observed.parked if ledger.sent[p.key].value is None]
                if poison:
                    discard(run, poison)
                    ledger.discarded.update(p.key for p in poison)
                    reached.add("discard")
            coverage.record(
                reached,
                {run.short_name(function) for function, _ in plan.injected},
                (ran - started, time.perf_counter() - ran),
            )
            assert not problems, (
                f"run {index} ({runs.replay(index)}): faults {plan.injected}\n"
                + "\n".join(problems)
            )
    finally:
        aws.faults.set_policy(None)
    return coverage


def test_invariant_under_random_faults(batch_stack: Any, run: QueueRun) -> None:
    runs = fault_runs(DEFAULT_SEED, DEFAULT_RUNS)
    coverage = random_runs(batch_stack, run, runs)
    print(coverage.report(runs.seed))
    if runs.runs >= 100:  # a replay of a few runs proves nothing about the spread
        assert coverage.below(0.2) == [], coverage.table(runs.seed)
        assert coverage.failed["processor"] and coverage.failed["redrive"], coverage.table(
            runs.seed
        )
