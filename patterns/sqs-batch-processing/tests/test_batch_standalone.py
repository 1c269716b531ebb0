"""The processor and the redrive function on in-process moto, needing only src/, its
requirements, moto and pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py), so a user of the exported folder can run it: a batch with a poison message, a
redelivery, and a parked message redriven and processed again, each reading counted once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqs_batch_processing import sdk
from sqs_batch_processing.functions import processor, redrive
from sqs_batch_processing.readings import ORIGINAL_ID_ATTRIBUTE

REGION = "us-east-1"


@dataclass
class Context:
    """What the handlers (and Powertools) read from the Lambda context."""

    function_name: str = "sqs-batch-processing-standalone"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:sqs-batch-processing-standalone"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Queues:
    dynamodb: Any
    sqs: Any
    totals_table: str
    source_url: str
    dlq_url: str

    def totals(self, sensor: str) -> tuple[int, Decimal]:
        key = {"sensor_id": {"S": sensor}}
        item = self.dynamodb.get_item(TableName=self.totals_table, Key=key)["Item"]
        return int(item["reading_count"]["N"]), Decimal(item["value_sum"]["N"])


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    """Both tables, the source queue and its DLQ on in-process moto; the functions' env set."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    suffix = uuid.uuid4().hex[:8]
    readings, totals = f"standalone-{suffix}-readings", f"standalone-{suffix}-totals"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "READINGS_TABLE": readings,
        "SENSOR_TOTALS_TABLE": totals,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    # In the catalog's suite moto's backends may hold a deployed stack: never reset them.
    mock = mock_aws(config={"core": {"reset_boto3_session": False}})
    mock.start(reset=False)
    sdk.client.cache_clear()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    urls: list[str] = []
    try:
        for table, key in ((readings, "message_id"), (totals, "sensor_id")):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        urls.append(sqs.create_queue(QueueName=f"standalone-{suffix}-dlq")["QueueUrl"])
        urls.append(sqs.create_queue(QueueName=f"standalone-{suffix}")["QueueUrl"])
        monkeypatch.setenv("DLQ_URL", urls[0])
        monkeypatch.setenv("SOURCE_QUEUE_URL", urls[1])
        yield Queues(dynamodb, sqs, totals, source_url=urls[1], dlq_url=urls[0])
    finally:
        for table in (readings, totals):
            dynamodb.delete_table(TableName=table)
        for url in urls:
            sqs.delete_queue(QueueUrl=url)
        mock.stop(remove_data=False)
        sdk.client.cache_clear()


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


def process(records: list[dict[str, Any]]) -> list[str]:
    answer = processor.handler({"Records": records}, Context())
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

    failed = process(batch)
    again = process([batch[0], batch[3]])  # delivered a second time

    assert sorted(failed) == sorted([by_body[json.dumps(bodies[1])], by_body["{not json"]])
    assert again == []
    assert queues.totals("sensor-a") == (2, Decimal("3.5"))


def test_a_redriven_message_is_moved_back_and_still_counts_once(queues: Queues) -> None:
    [first] = send_and_receive(queues, queues.source_url, reading("sensor-b", "4"))
    assert process([delivered(first)]) == []
    # The same message parked in the DLQ (its response was lost), then redriven to the source.
    # SQS keeps a parked message's id; send_message cannot, so the attribute carries the first.
    queues.sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=first["Body"],
        MessageAttributes={
            ORIGINAL_ID_ATTRIBUTE: {"DataType": "String", "StringValue": first["MessageId"]}
        },
    )

    answer = redrive.handler({}, Context())
    [moved] = send_and_receive(queues, queues.source_url)

    assert answer == {"moved": 1, "failed": [], "left": 0}
    assert moved["MessageAttributes"][ORIGINAL_ID_ATTRIBUTE]["StringValue"] == first["MessageId"]
    assert process([delivered(moved)]) == []
    assert queues.totals("sensor-b") == (1, Decimal(4))
