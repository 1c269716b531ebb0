"""The DynamoDB Streams poller of a Lambda event-source mapping, with Lambda's semantics.

- Committed records only: records are read through the DynamoDB Streams API (GetShardIterator,
  GetRecords), and DynamoDB and DynamoDB Streams requests are served one at a time
  (`shims._install_dynamodb_request_isolation`), so a read never sees the items of a transaction
  that has not committed, and a cancelled transaction (rolled back) leaves no record.
- Position: per shard, the last sequence number handled; a new mapping starts at its
  StartingPosition (TRIM_HORIZON: every record kept, LATEST: what arrives from now on).
- Batches: up to BatchSize records that pass the FilterCriteria (records filtered out are skipped,
  never delivered); records are delivered in order, one batch at a time per shard.
- Failures, as the Lambda poller handles them: with BisectBatchOnFunctionError a function error
  splits the batch in two, each half keeping the retry count (splitting is not a retry); with
  ReportBatchItemFailures a partial response retries from the lowest failed sequence number
  (everything before it is done); otherwise the whole batch is retried (at-least-once). A batch
  is discarded when its retries exceed MaximumRetryAttempts or its oldest record is older than
  MaximumRecordAgeInSeconds: its position (not its records) goes to the OnFailure destination (SQS
  or SNS) in Lambda's record format; without a destination the records are skipped.
- Not emulated: ParallelizationFactor (one batch at a time per shard, which AWS also guarantees
  per partition key), tumbling windows (refused), and the 6 MB payload limit.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from .event_sources import (
    MAX_DELIVERIES_PER_BATCH,
    ClientFactory,
    MappingActivity,
    SettleError,
    invoke_batch,
)
from .filters import record_filter

Record = dict[str, Any]


class StreamPoller:
    def __init__(self, client: ClientFactory) -> None:
        self._client = client
        self.positions: dict[str, str] = {}  # shard id -> last sequence number handled ("" none)

    def poll(self, mapping: dict[str, Any], activity: MappingActivity) -> bool:
        if mapping.get("TumblingWindowInSeconds"):
            raise SettleError(f"mapping {mapping['UUID']}: tumbling windows are not emulated")
        streams = self._client("dynamodbstreams")
        stream_arn = mapping["EventSourceArn"]
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        matches = record_filter(mapping.get("FilterCriteria"))
        batch_size = int(mapping.get("BatchSize") or 100)
        progressed = False
        for shard in shards:
            shard_id = shard["ShardId"]
            records = self._read(streams, mapping, shard_id)
            if not records:
                continue
            progressed = True
            wanted = [r for r in records if matches(lambda_record(r, stream_arn))]
            activity.filtered_out += len(records) - len(wanted)
            for start in range(0, len(wanted), batch_size):
                batch = wanted[start : start + batch_size]
                _Delivery(self._client, mapping, shard_id, activity).deliver(batch, 0)
            self.positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        return progressed

    def _read(self, streams: Any, mapping: dict[str, Any], shard_id: str) -> list[Record]:
        """Records after the position. A fresh iterator per poll: the emulator swaps a table's
        shard object when it rolls a transaction back, and an old iterator would still hold the
        cancelled writes."""
        after = self.positions.get(shard_id)
        if after is None and (mapping.get("StartingPosition") or "TRIM_HORIZON") == "LATEST":
            every = _records_from(streams, mapping["EventSourceArn"], shard_id, None)
            self.positions[shard_id] = every[-1]["dynamodb"]["SequenceNumber"] if every else ""
            return []
        records = _records_from(streams, mapping["EventSourceArn"], shard_id, after or None)
        if after:
            # Sequence numbers are ordered: never hand back what was already handled.
            records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(after)]
        return records


def _records_from(streams: Any, stream_arn: str, shard_id: str, after: str | None) -> list[Record]:
    position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
    if after:
        position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)[
        "ShardIterator"
    ]
    records: list[Record] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        records += page["Records"]
        iterator = page.get("NextShardIterator")
    return records


class _Delivery:
    """One batch on its way to the function, until it succeeds or is discarded."""

    def __init__(
        self,
        client: ClientFactory,
        mapping: dict[str, Any],
        shard_id: str,
        activity: MappingActivity,
    ) -> None:
        self._client = client
        self.mapping = mapping
        self.shard_id = shard_id
        self.activity = activity
        self.stream_arn: str = mapping["EventSourceArn"]
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        self.max_retries = _setting(mapping, "MaximumRetryAttempts")
        self.max_age = _setting(mapping, "MaximumRecordAgeInSeconds")
        self.partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])

    def deliver(self, batch: list[Record], retries: int) -> None:
        invocations = 0
        while batch:
            if self.max_age >= 0 and _age_seconds(batch[0]) > self.max_age:
                self._discard(batch, "RecordAgeExceeded", invocations, None)
                return
            sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
            outcome = invoke_batch(
                self._client("lambda"),
                self.mapping["FunctionArn"],
                {"Records": [lambda_record(r, self.stream_arn) for r in batch]},
                sequences,
                self.partial,
                self.activity,
            )
            invocations += 1
            if outcome.ok:
                return
            if outcome.error is None:
                # Partial success: everything before the lowest failed record is done.
                batch = batch[min(sequences.index(s) for s in outcome.failed) :]
            elif self.bisect and len(batch) > 1:
                half = len(batch) // 2
                self.deliver(batch[:half], retries)
                self.deliver(batch[half:], retries)
                return
            retries += 1
            if 0 <= self.max_retries < retries:
                self._discard(batch, "RetryAttemptsExhausted", invocations, outcome.error)
                return
            if invocations >= MAX_DELIVERIES_PER_BATCH:
                raise SettleError(
                    f"{self.mapping['FunctionArn']}: stream batch still failing after "
                    f"{invocations} invocations (MaximumRetryAttempts {self.max_retries})"
                )

    def _discard(
        self, batch: list[Record], condition: str, invocations: int, error: str | None
    ) -> None:
        """Send the batch's position to the on-failure destination, in Lambda's format."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if error:
            response["functionError"] = "Unhandled"
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping["FunctionArn"],
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(datetime.now(UTC)),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.activity.discarded.append(record)
        target = ((self.mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        if target:
            send_to_destination(self._client, str(target), record)


def send_to_destination(client: ClientFactory, target: str, record: dict[str, Any]) -> None:
    """Deliver an on-failure record to an SQS queue or SNS topic ARN."""
    service = target.split(":")[2]
    if service == "sqs":
        sqs = client("sqs")
        url = sqs.get_queue_url(QueueName=target.split(":")[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    elif service == "sns":
        client("sns").publish(TopicArn=target, Message=json.dumps(record))
    else:
        raise SettleError(f"on-failure destination {target} is not emulated (SQS and SNS are)")


def lambda_record(record: Record, stream_arn: str) -> Record:
    """A Streams API record as Lambda passes it: eventSourceARN added, time as epoch seconds."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    out = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        out["userIdentity"] = record["userIdentity"]
    return out


def _setting(mapping: dict[str, Any], key: str) -> int:
    value = mapping.get(key)
    return -1 if value is None else int(value)  # -1 (or unset): no limit, as on AWS


def _age_seconds(record: Record) -> float:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return (datetime.now(UTC) - created.astimezone(UTC)).total_seconds()
    return 0.0


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None if value is None else str(value)
