"""Helpers of the end-to-end tests: what the stack stored and parked, and the pattern's invariant.

Everything is read back from the deployed stack after it settled, as lists (a row or a parked
message counted twice is seen twice):
- every message sent is, by its idempotency key (the first delivery's message id), applied
  exactly once (one `readings` row), or parked in the DLQ once, or was discarded from the DLQ by
  the test (an operator deleting a message that can never be processed): never none of them
  (nothing lost), never twice the same. Applied AND parked is allowed, as on AWS: a batch
  applied whose answer was lost comes back, and if it keeps failing to be acknowledged until
  maxReceiveCount, its copy is parked; a redrive of that copy changes nothing;
- a poison message is never applied;
- nothing is invented: every row and every parked message belongs to a message sent;
- each sensor's totals (`reading_count`, `value_sum`, ADDed per application) equal the count and
  the sum of its `readings` rows: a second application of one message would count twice;
- the source queue is empty (the stack settled: nothing in flight, nothing waiting).

After each randomized run the check reads only what the run can have changed
(`Observed.after_run`): the rows of the messages it sent or found parked, every totals row of the
test's sensors and the whole DLQ; the rows of earlier runs are taken from the ledger, which
remembers what the last check read. A whole-table read (`Observed.read`) checks everything at the
end, so a row changed behind the ledger's back is still found.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqs_batch_processing.readings import ORIGINAL_ID_ATTRIBUTE

from catalog.drivers.queue import QueueRun


@dataclass(frozen=True)
class Sent:
    sensor: str
    value: Decimal | None  # None: a poison message
    body: Any


@dataclass(frozen=True)
class Parked:
    key: str
    message_id: str
    body: str
    receipt_handle: str


def parked_messages(run: QueueRun, limit: int = 2000) -> list[Parked]:
    """Every message in the DLQ, left in place: received with a visibility timeout (so each
    receive returns others), then made visible again."""
    sqs, url = run.client("sqs"), run.outputs["queue_urls"]["dlq"]
    found: list[Parked] = []
    try:
        while len(found) < limit:
            page = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=60,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not page:
                break
            for message in page:
                original = (message.get("MessageAttributes") or {}).get(ORIGINAL_ID_ATTRIBUTE)
                key = original["StringValue"] if original else message["MessageId"]
                found.append(
                    Parked(key, message["MessageId"], message["Body"], message["ReceiptHandle"])
                )
    finally:
        for start in range(0, len(found), 10):
            with suppress(Exception):
                sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": p.receipt_handle, "VisibilityTimeout": 0}
                        for i, p in enumerate(found[start : start + 10])
                    ],
                )
    return found


def discard(run: QueueRun, messages: list[Parked]) -> None:
    """Delete parked messages (the operator's choice for those that can never succeed)."""
    sqs, url = run.client("sqs"), run.outputs["queue_urls"]["dlq"]
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt_handle)


@dataclass
class Observed:
    readings: list[dict[str, Any]]  # rows of this test's sensors
    totals: list[dict[str, Any]]
    parked: list[Parked]  # of this test's messages
    source_depth: int
    checked: set[str] | None = None  # the keys whose rows were read; None: every key

    @classmethod
    def after_run(cls, run: QueueRun, ledger: Ledger, sent: set[str]) -> Observed:
        """What one run can have changed: the rows of the messages it `sent` and of those parked
        before or after it (a redrive applies them), read by key; the other rows as the
        ledger remembers them (and the ledger now remembers these)."""
        sensors = ledger.sensors
        parked = [p for p in parked_messages(run) if p.key in ledger.sent or _mentions(p, sensors)]
        checked = sent | ledger.parked | {p.key for p in parked}
        for key in checked:
            ledger.applied.pop(key, None)
        for row in run.rows_by_key("readings", "message_id", checked):
            if row["sensor_id"] in sensors:
                ledger.applied[str(row["message_id"])] = row
        ledger.parked = {p.key for p in parked}
        return cls(
            readings=list(ledger.applied.values()),
            totals=run.rows_by_key("sensor_totals", "sensor_id", sensors),
            parked=parked,
            source_depth=run.queue_depths()["source"],
            checked=checked,
        )

    @classmethod
    def read(cls, run: QueueRun, sensors: set[str], keys: set[str]) -> Observed:
        tables = run.table_rows()
        return cls(
            readings=[r for r in tables["readings"] if r["sensor_id"] in sensors],
            totals=[r for r in tables["sensor_totals"] if r["sensor_id"] in sensors],
            parked=[p for p in parked_messages(run) if p.key in keys or _mentions(p, sensors)],
            source_depth=run.queue_depths()["source"],
        )


def _mentions(parked: Parked, sensors: set[str]) -> bool:
    return any(sensor in parked.body for sensor in sensors)


@dataclass
class Ledger:
    """What one test sent and discarded, by idempotency key; what the last check read."""

    sent: dict[str, Sent] = field(default_factory=dict)
    discarded: Counter[str] = field(default_factory=Counter)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)  # readings rows, by key
    parked: set[str] = field(default_factory=set)  # keys parked in the DLQ

    @property
    def sensors(self) -> set[str]:
        return {s.sensor for s in self.sent.values()}


def invariant_problems(ledger: Ledger, observed: Observed) -> list[str]:
    """The invariant's violations; per key only for the keys read (`observed.checked`), per
    sensor always over all its rows."""
    problems: list[str] = []
    applied = Counter(str(r["message_id"]) for r in observed.readings)
    parked = Counter(p.key for p in observed.parked)
    for key in sorted(set(applied) | set(parked) | set(ledger.discarded)):
        if key not in ledger.sent:
            problems.append(f"{key}: applied {applied[key]}, parked {parked[key]}: never sent")
    keys = ledger.sent if observed.checked is None else observed.checked & set(ledger.sent)
    for key in keys:
        sent = ledger.sent[key]
        counts = (applied[key], parked[key], ledger.discarded[key])
        if sum(counts) == 0 or max(counts) > 1 or (parked[key] and ledger.discarded[key]):
            problems.append(
                f"{key} ({sent.sensor}): applied {counts[0]}, parked {counts[1]}, "
                f"discarded {counts[2]}"
            )
        if sent.value is None and applied[key]:
            problems.append(f"{key}: a poison message was applied")
    rows_by_sensor: dict[str, list[dict[str, Any]]] = {}
    for row in observed.readings:
        rows_by_sensor.setdefault(str(row["sensor_id"]), []).append(row)
        sent = ledger.sent.get(str(row["message_id"]))
        if observed.checked is not None and row["message_id"] not in observed.checked:
            continue  # checked when it was read
        if sent is not None and sent.value is not None and _decimal(row["value"]) != sent.value:
            problems.append(f"{row['message_id']}: stored value {row['value']} != {sent.value}")
    totals_by_sensor = Counter(str(t["sensor_id"]) for t in observed.totals)
    for total in observed.totals:
        sensor = str(total["sensor_id"])
        rows = rows_by_sensor.get(sensor, [])
        if totals_by_sensor[sensor] != 1:
            problems.append(f"{sensor}: {totals_by_sensor[sensor]} totals rows")
        if int(total["reading_count"]) != len(rows):
            problems.append(
                f"{sensor}: reading_count {total['reading_count']} != {len(rows)} readings "
                "(a message applied twice, or a row without its effect)"
            )
        expected = sum((_decimal(r["value"]) for r in rows), Decimal(0))
        if _decimal(total["value_sum"]) != expected:
            problems.append(f"{sensor}: value_sum {total['value_sum']} != {expected}")
    for sensor in set(rows_by_sensor) - set(totals_by_sensor):
        problems.append(f"{sensor}: readings without totals")
    if observed.source_depth:
        problems.append(f"source queue still holds {observed.source_depth} messages")
    return problems


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))
