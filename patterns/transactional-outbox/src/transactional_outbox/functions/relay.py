"""relay: outbox table stream (new images, INSERT only) -> EventBridge custom bus.

One batch, three passes:
1. parse every record (Powertools parser model); a record that is not a valid outbox record fails
   alone, every time: it is a poison record, and the event source mapping (bisect on error,
   maximum retry attempts and record age) ends up sending its position to the SQS on-failure
   destination while the rest of the shard flows on;
2. skip records already marked PUBLISHED (a consistent read), so a retried batch never makes the
   relay publish a record twice; publish the others with PutEvents, retrying failed entries only;
3. mark what was published, then report the records that failed through Powertools batch
   processing (`batchItemFailures`), so the poller retries from the first failed record.

A crash between PutEvents and the mark can still publish a record twice (EventBridge has no
deduplication); the consumer is idempotent on the event id for exactly that reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from .. import clients, publisher
from ..models import OutboxRecord, OutboxStreamRecord

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class PoisonRecordError(Exception):
    """The stream record is not a valid outbox record; retrying will not change that."""


def _parse(raw: dict[str, Any]) -> OutboxRecord | None:
    """The outbox record of an INSERT, None for other changes (marks and TTL deletions)."""
    if raw.get("eventName") != "INSERT":
        return None
    try:
        change = OutboxStreamRecord.model_validate(raw)
    except ValidationError as exc:
        fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)]
        raise PoisonRecordError(f"invalid outbox record: {fields}") from None
    return change.dynamodb.NewImage


def relay(records: list[dict[str, Any]], time_left: Any) -> dict[str, Exception]:
    """Publish the batch; returns sequence number -> error for the records that failed."""
    failures: dict[str, Exception] = {}
    outbox: dict[str, OutboxRecord] = {}  # sequence number -> record to publish
    for raw in records:
        sequence = raw["dynamodb"]["SequenceNumber"]
        try:
            record = _parse(raw)
        except PoisonRecordError as exc:
            logger.error("poison record", extra={"sequence_number": sequence, "reason": str(exc)})
            failures[sequence] = exc
            continue
        if record is not None:
            outbox[sequence] = record
    if not outbox:
        return failures

    table = clients.setting("OUTBOX_TABLE")
    done = publisher.already_published([r.event_id for r in outbox.values()], table)
    todo = {seq: r for seq, r in outbox.items() if r.event_id not in done}
    if done:
        logger.info("skipping records already published", extra={"event_ids": sorted(done)})
    # One event per record even if a stream batch repeats an event id.
    unique = list({r.event_id: r for r in todo.values()}.values())
    report = publisher.put_events(
        unique,
        clients.setting("EVENT_BUS_NAME"),
        clients.setting("EVENT_SOURCE"),
        time_left=time_left,
    )
    publisher.mark_published(sorted(report.published), table)
    for sequence, record in todo.items():
        if record.event_id in report.failed:
            failures[sequence] = publisher.PublishError(
                f"PutEvents failed for {record.event_id}: {report.failed[record.event_id]}"
            )
    logger.info(
        "batch relayed",
        extra={
            "records": len(records),
            "published": len(report.published),
            "skipped": len(done),
            "failed": len(failures),
            "put_events_calls": report.calls,
        },
    )
    return failures


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    failures = relay(
        event.get("Records", []),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )

    def record_handler(record: DynamoDBRecord) -> None:
        error = failures.get(str(record.dynamodb.sequence_number if record.dynamodb else ""))
        if error is not None:
            raise error

    # Raises BatchProcessingError when every record failed: a function error, which is what
    # makes the event source mapping bisect the batch and isolate a poison record.
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
