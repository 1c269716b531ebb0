"""Publishing outbox records to EventBridge and marking them published.

PutEvents takes at most 10 entries and can fail per entry (`FailedEntryCount` > 0, the call itself
succeeding). Only the failed entries are sent again, with backoff, while the invocation has time;
entries that still fail are reported back so the stream poller retries their records. An entry
rejected for its content (not throttling) is not retried here: retrying cannot fix it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from . import clients
from .models import PUBLISHED, OutboxRecord

MAX_ENTRIES_PER_CALL = 10
# Entry error codes worth sending again: throttling and service-side faults.
RETRYABLE_ENTRY_ERRORS = frozenset({"ThrottlingException", "InternalFailure", "InternalException"})


class PublishError(Exception):
    """An outbox record could not be published (yet); its stream record will be retried."""


@dataclass
class PublishReport:
    published: set[str] = field(default_factory=set)  # event ids
    failed: dict[str, str] = field(default_factory=dict)  # event id -> last error code
    calls: int = 0


def entry(record: OutboxRecord, bus_name: str, source: str) -> dict[str, Any]:
    return {
        "EventBusName": bus_name,
        "Source": source,
        "DetailType": record.event_type,
        "Detail": record.payload,  # the exact JSON committed with the order
        "Time": record.created_at,
        "Resources": [],
    }


def put_events(
    records: Sequence[OutboxRecord],
    bus_name: str,
    source: str,
    *,
    events: Any = None,
    max_attempts: int = 4,
    base_delay: float = 0.05,
    time_left: Callable[[], float] = lambda: 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishReport:
    """Publish every record; retry only the entries that failed, at most `max_attempts` times."""
    events = events or clients.client("events")
    report = PublishReport()
    pending = list(records)
    for attempt in range(1, max_attempts + 1):
        retry: list[OutboxRecord] = []
        for start in range(0, len(pending), MAX_ENTRIES_PER_CALL):
            chunk = pending[start : start + MAX_ENTRIES_PER_CALL]
            report.calls += 1
            try:
                answer = events.put_events(Entries=[entry(r, bus_name, source) for r in chunk])
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "ClientError")
                for record in chunk:
                    report.failed[record.event_id] = code
                retry += chunk
                continue
            # Results are positional: result i belongs to entry i.
            for record, result in zip(chunk, answer.get("Entries", []), strict=False):
                if result.get("EventId") and not result.get("ErrorCode"):
                    report.published.add(record.event_id)
                    report.failed.pop(record.event_id, None)
                    continue
                code = str(result.get("ErrorCode") or "Unknown")
                report.failed[record.event_id] = code
                if code in RETRYABLE_ENTRY_ERRORS:
                    retry.append(record)
        pending = retry
        if not pending or attempt == max_attempts:
            break
        # Full jitter, capped by what is left of the invocation.
        delay = random.uniform(0, base_delay * 2 ** (attempt - 1))
        if time_left() < delay + 2.0:
            break
        sleep(delay)
    return report


def mark_published(event_ids: Sequence[str], table_name: str, dynamodb: Any = None) -> None:
    """Flag records as published, so a retried stream batch never publishes them again."""
    dynamodb = dynamodb or clients.client("dynamodb")
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    for event_id in event_ids:
        try:
            dynamodb.update_item(
                TableName=table_name,
                Key={"event_id": {"S": event_id}},
                UpdateExpression="SET #status = :published, published_at = :now",
                # Never resurrect a record TTL already removed.
                ConditionExpression="attribute_exists(event_id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":published": {"S": PUBLISHED}, ":now": {"S": now}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def already_published(event_ids: Sequence[str], table_name: str, dynamodb: Any = None) -> set[str]:
    """Event ids whose outbox record is marked PUBLISHED (a strongly consistent read)."""
    dynamodb = dynamodb or clients.client("dynamodb")
    found: set[str] = set()
    unique = sorted(set(event_ids))
    for start in range(0, len(unique), 100):  # BatchGetItem takes 100 keys
        request: dict[str, Any] = {
            table_name: {
                "Keys": [{"event_id": {"S": e}} for e in unique[start : start + 100]],
                "ConsistentRead": True,
                "ProjectionExpression": "event_id, #status",
                "ExpressionAttributeNames": {"#status": "status"},
            }
        }
        for _ in range(5):
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table_name, []):
                if item.get("status", {}).get("S") == PUBLISHED:
                    found.add(item["event_id"]["S"])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05)
        else:
            raise PublishError("BatchGetItem left keys unprocessed after 5 attempts")
    return found
