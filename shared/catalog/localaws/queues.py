"""The SQS poller of a Lambda event-source mapping, with Lambda's semantics.

- Batches: one ReceiveMessage of up to min(BatchSize, 10) messages; with a batching window
  (MaximumBatchingWindowInSeconds > 0, which AWS requires for BatchSize > 10) receives repeat until
  BatchSize messages are gathered or the queue has no more (time is compressed: the window never
  delays). Messages are received with the queue's own visibility timeout.
- Filter criteria: a message that matches no filter is deleted without being delivered (what
  Lambda does for SQS); a JSON body is matched by its fields.
- Outcome: success deletes the batch; a function error returns every message of it to the queue;
  with ReportBatchItemFailures only the reported messages return (an invalid response fails the
  whole batch). A returned message is visible again at once (AWS waits for the visibility
  timeout), and redelivered: at-least-once.
- Dead-letter queue: the queue's RedrivePolicy does the rest, as on AWS: a message received
  maxReceiveCount times is moved to the deadLetterTargetArn on its next receive (moto implements
  the move in ReceiveMessage). A queue without a redrive policy retries until settle gives up.
- FIFO queues: moto holds back a message group while one of its messages is in flight, so a
  group is delivered in order; the function reports the failed message and those after it.
"""

from __future__ import annotations

import json
from typing import Any

from .event_sources import (
    MAX_DELIVERIES_PER_BATCH,
    ClientFactory,
    MappingActivity,
    SettleError,
    invoke_batch,
)
from .filters import record_filter

RECEIVE_LIMIT = 10  # ReceiveMessage returns at most 10 messages per call


class QueuePoller:
    def __init__(self, client: ClientFactory) -> None:
        self._client = client
        self._url: str | None = None

    def poll(self, mapping: dict[str, Any], activity: MappingActivity) -> bool:
        sqs = self._client("sqs")
        queue_arn = mapping["EventSourceArn"]
        if self._url is None:
            self._url = sqs.get_queue_url(QueueName=queue_arn.split(":")[-1])["QueueUrl"]
        messages = self._receive(sqs, mapping)
        if not messages:
            return False
        for message in messages:
            received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if received > MAX_DELIVERIES_PER_BATCH:
                raise SettleError(
                    f"{queue_arn}: message {message['MessageId']} received {received} times "
                    "and still failing (no redrive policy moves it to a dead-letter queue)"
                )
        matches = record_filter(mapping.get("FilterCriteria"))
        records = [sqs_record(m, queue_arn) for m in messages]
        wanted = [r for r in records if matches(r)]
        activity.filtered_out += len(records) - len(wanted)
        for record in wanted:
            envelope = _json(record["body"])
            if isinstance(envelope, dict) and {"detail-type", "source", "id"} <= set(envelope):
                activity.eventbridge_events.add(str(envelope["id"]))
        failed: set[str] = set()
        if wanted:
            outcome = invoke_batch(
                self._client("lambda"),
                mapping["FunctionArn"],
                {"Records": wanted},
                [r["messageId"] for r in wanted],
                "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
                activity,
            )
            failed = {r["messageId"] for r in wanted} if outcome.error else set(outcome.failed)
        for message in messages:
            if message["MessageId"] in failed:
                # Time compressed: visible again now instead of after the visibility timeout.
                sqs.change_message_visibility(
                    QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _receive(self, sqs: Any, mapping: dict[str, Any]) -> list[dict[str, Any]]:
        batch_size = int(mapping.get("BatchSize") or RECEIVE_LIMIT)
        window = int(mapping.get("MaximumBatchingWindowInSeconds") or 0)
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            page = sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(RECEIVE_LIMIT, batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += page
            if not page or window <= 0:
                break
        return messages


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received message as Lambda passes it to the function."""
    attributes = dict(message.get("Attributes") or {})
    attributes.setdefault("ApproximateReceiveCount", "1")
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    import base64

    out: dict[str, Any] = {
        "dataType": value.get("DataType", "String"),
        "stringListValues": [],
        "binaryListValues": [],
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
    return out


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
