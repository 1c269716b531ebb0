"""Planted defects: a deliberately broken copy of the processor runs on the deployed stack, and
the invariant the randomized runs check must fail, naming what went wrong: checked on the rows
one run can have changed (what each randomized run checks) and on every row (what they check at
the end).

The broken build is swapped into the deployed function for the test only; the original build is
put back afterwards. Each test uses sensors of its own, so the invariant of other tests is not
touched.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from batch_e2e import Ledger, Observed, Sent, invariant_problems

from catalog.drivers.queue import QueueRun
from catalog.testing import broken_build, running_code

PATTERN_DIR = Path(__file__).resolve().parents[1]
# The readings row no longer guards the totals: a redelivered message is applied again.
APPLIES_EVERY_DELIVERY = (r'\s*"ConditionExpression": "attribute_not_exists\(message_id\)",', "")
# The partial batch response is dropped: Lambda deletes every message of a batch that did not
# fail entirely, the poison one included.
DROPS_FAILURES = (r"return process_partial_response\(", "process_partial_response(")


def _send(run: QueueRun, ledger: Ledger, sensor: str, *values: str | None) -> None:
    for value in values:
        body = {"sensor_id": sensor, "metric": "temperature", "taken_at": "2026-01-15T08:00:00Z"}
        body["value"] = value if value is not None else "warm"
        sent = run.send(run.outputs["queue_urls"]["source"], {"body": body})
        ledger.sent[sent["message_id"]] = Sent(
            sensor, None if value is None else Decimal(value), body
        )


def _broken_run(
    batch_stack: Any, tmp_path: Path, source: str, defect: tuple[str, str], *values: str | None
) -> tuple[str, list[list[str]]]:
    run = QueueRun(batch_stack.context())
    aws = batch_stack.aws
    aws.faults.clear()
    code, original = broken_build(PATTERN_DIR, tmp_path, "processor", source, defect)
    ledger, sensor = Ledger(), f"planted-{uuid.uuid4().hex[:8]}"
    processor = run.function_names["processor"]
    with running_code(run.client("lambda"), processor, code, original):
        # The batch is applied, then the answer is lost: SQS delivers it again.
        aws.faults.add(processor, "ServiceUnavailableException", "after", 1)
        _send(run, ledger, sensor, *values)
        run.settle()
    aws.faults.clear()
    after_run = invariant_problems(ledger, Observed.after_run(run, ledger, set(ledger.sent)))
    everything = invariant_problems(ledger, Observed.read(run, {sensor}, set(ledger.sent)))
    return sensor, [after_run, everything]


def test_a_processor_without_its_guard_fails_exactly_once(batch_stack: Any, tmp_path: Path) -> None:
    sensor, checks = _broken_run(
        batch_stack, tmp_path, "sqs_batch_processing/ledger.py", APPLIES_EVERY_DELIVERY, "2.5"
    )
    for problems in checks:
        assert any(f"{sensor}: reading_count 2 != 1 readings" in p for p in problems), problems


def test_a_processor_that_drops_its_failures_loses_the_poison_message(
    batch_stack: Any, tmp_path: Path
) -> None:
    sensor, checks = _broken_run(
        batch_stack,
        tmp_path,
        "sqs_batch_processing/functions/processor.py",
        DROPS_FAILURES,
        "1.0",
        None,
    )
    for problems in checks:
        assert any(f"({sensor}): applied 0, parked 0, discarded 0" in p for p in problems), problems
