"""The processor and the redrive function on in-process moto, needing only src/, its
requirements, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py; `moto_aws` and `lambda_context` come from the plugin catalog.moto_fixtures, which the
export carries), so a user of the exported folder can run it: a batch with a poison message, a
redelivery, and a parked message redriven and processed again, each reading counted once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqs_batch_processing import sdk
from sqs_batch_processing.functions import processor, redrive
from sqs_batch_processing.readings import ORIGINAL_ID_ATTRIBUTE

REGION = "us-east-1"


@dataclass
class Queues:
    dynamodb: Any
    sqs: Any
    totals_table: str
    source_url: str
    dlq_url: str
    context: Any

    def totals(self, sensor: str) -> tuple[int, Decimal]:
        key = {"sensor_id": {"S": sensor}}
        item = self.dynamodb.get_item(TableName=self.totals_table, Key=key)["Item"]
        return int(item["reading_count"]["N"]), Decimal(item["value_sum"]["N"])


@pytest.fixture
def queues(moto_aws: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Queues:
    """Both tables, the source queue and its DLQ on in-process moto (the `moto_aws` fixture),
    under names of their own; the functions' env set."""
    sdk.client.cache_clear()
    moto_aws.on_teardown(sdk.client.cache_clear)
    created = moto_aws.tables({"readings": "message_id", "sensor_totals": "sensor_id"})
    dlq_url, _ = moto_aws.queue(f"standalone-{moto_aws.suffix}-dlq")
    source_url, _ = moto_aws.queue(f"standalone-{moto_aws.suffix}")
    monkeypatch.setenv("DLQ_URL", dlq_url)
    monkeypatch.setenv("SOURCE_QUEUE_URL", source_url)
    dynamodb, sqs = moto_aws.client("dynamodb"), moto_aws.client("sqs")
    totals = created["sensor_totals"].name
    return Queues(dynamodb, sqs, totals, source_url, dlq_url, lambda_context)


def reading(sensor: str, value: Any) -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "metric": "temperature",
        "value": value,
        "taken_at": "2026-01-15T08:00:00Z",
    }


def delivered(message: dict[str, Any]) -> dict[str, Any]:
    """A message received from the queue, as the event-source mapping hands it to Lambda."""
    attributes = {
        name: {
            "stringValue": value["StringValue"],
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1768464000000",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1768464000001",
        },
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:standalone",
        "awsRegion": REGION,
    }


def send_and_receive(queues: Queues, url: str, *bodies: Any) -> list[dict[str, Any]]:
    for body in bodies:
        queues.sqs.send_message(
            QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body)
        )
    received: list[dict[str, Any]] = []
    while page := queues.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        received += page
        for message in page:
            queues.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def process(queues: Queues, records: list[dict[str, Any]]) -> list[str]:
    answer = processor.handler({"Records": records}, queues.context)
    return [failure["itemIdentifier"] for failure in answer["batchItemFailures"]]


def test_only_the_poison_message_fails_and_a_redelivery_counts_once(queues: Queues) -> None:
    bodies = [
        reading("sensor-a", "1.5"),
        reading("sensor-a", "warm"),
        "{not json",
        reading("sensor-a", 2),
    ]
    batch = [delivered(m) for m in send_and_receive(queues, queues.source_url, *bodies)]
    by_body = {record["body"]: record["messageId"] for record in batch}

    failed = process(queues, batch)
    again = process(queues, [batch[0], batch[3]])  # delivered a second time

    assert sorted(failed) == sorted([by_body[json.dumps(bodies[1])], by_body["{not json"]])
    assert again == []
    assert queues.totals("sensor-a") == (2, Decimal("3.5"))


def test_a_redriven_message_is_moved_back_and_still_counts_once(queues: Queues) -> None:
    [first] = send_and_receive(queues, queues.source_url, reading("sensor-b", "4"))
    assert process(queues, [delivered(first)]) == []
    # The same message parked in the DLQ (its response was lost), then redriven to the source.
    # SQS keeps a parked message's id; send_message cannot, so the attribute carries the first.
    queues.sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=first["Body"],
        MessageAttributes={
            ORIGINAL_ID_ATTRIBUTE: {"DataType": "String", "StringValue": first["MessageId"]}
        },
    )

    answer = redrive.handler({}, queues.context)
    [moved] = send_and_receive(queues, queues.source_url)

    assert answer == {"moved": 1, "failed": [], "left": 0}
    assert moved["MessageAttributes"][ORIGINAL_ID_ATTRIBUTE]["StringValue"] == first["MessageId"]
    assert process(queues, [delivered(moved)]) == []
    assert queues.totals("sensor-b") == (1, Decimal(4))
