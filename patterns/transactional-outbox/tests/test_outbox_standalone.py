"""The outbox's path through its three handlers, needing only src/, its requirements, moto and
pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py), so a user of the exported folder can run it: an HTTP request creates the order and
its outbox record in one transaction, the relay publishes what the table's stream shows, the
consumer applies each event once.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from transactional_outbox import clients, ledger

REGION = "us-east-1"
ACCOUNT = "123456789012"
BODY = {
    "customer_id": "cust-7",
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "12.50"}],
}


@dataclass
class Context:
    """What the handlers (and Powertools) read from the Lambda context."""

    function_name: str = "transactional-outbox-standalone"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:transactional-outbox-standalone"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Stack:
    dynamodb: Any
    names: dict[str, str]
    queue_url: str

    def items(self, table: str) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.names[table])["Items"])

    def stream_records(self) -> list[dict[str, Any]]:
        """The outbox table's stream, as Lambda passes the records to the relay."""
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        arn = self.dynamodb.describe_table(TableName=self.names["outbox"])["Table"][
            "LatestStreamArn"
        ]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        for record in records:
            record["eventSourceARN"] = arn
            created = record["dynamodb"]["ApproximateCreationDateTime"]
            record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
        return records

    def published(self) -> list[dict[str, Any]]:
        """The events the bus delivered to the test's queue (rule on the pattern's source)."""
        sqs = boto3.client("sqs", region_name=REGION)
        answer = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """In-process moto: the four tables (outbox with a stream), the bus with a rule to a queue."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # create_order binds its idempotency table when first imported, and in the catalog's suite
    # conftest.py's unit tests share that import: the same names as theirs ("unit-...").
    keys = {"orders": "order_id", "outbox": "event_id", "idempotency": "id", "ledger": "pk"}
    names = {table: f"unit-{table}" for table in keys}
    bus, source = "unit-orders-bus", "transactional-outbox.orders"
    environment = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "EVENT_BUS_NAME": bus,
        "EVENT_SOURCE": source,
        **{f"{table.upper()}_TABLE": name for table, name in names.items()},
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # In the catalog's suite moto's backends may hold a deployed stack: never reset them.
    mock = mock_aws(config={"core": {"reset_boto3_session": False}})
    mock.start(reset=False)
    clients._clients.clear()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    try:
        for table, key in keys.items():
            stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
            dynamodb.create_table(
                TableName=names[table],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                **({"StreamSpecification": stream} if table == "outbox" else {}),
            )
        events.create_event_bus(Name=bus)
        queue_url = sqs.create_queue(QueueName="unit-standalone-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="orders", EventBusName=bus, EventPattern=json.dumps({"source": [source]})
        )
        events.put_targets(Rule="orders", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
        yield Stack(dynamodb, names, queue_url)
    finally:
        for name in names.values():
            dynamodb.delete_table(TableName=name)
        events.remove_targets(Rule="orders", EventBusName=bus, Ids=["q"])
        events.delete_rule(Name="orders", EventBusName=bus)
        events.delete_event_bus(Name=bus)
        sqs.delete_queue(QueueUrl=queue_url)
        mock.stop(remove_data=False)
        clients._clients.clear()


def handler(function: str) -> Any:
    """A function's handler, imported once its environment is set (it reads it on import)."""
    return importlib.import_module(f"transactional_outbox.functions.{function}").handler


def post(body: dict[str, Any], key: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST /orders through the HTTP API (payload format 2.0)."""
    event = {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "idempotency-key": key},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api",
            "domainName": f"api.execute-api.{REGION}.amazonaws.com",
            "domainPrefix": "api",
            "http": {
                "method": "POST",
                "path": "/orders",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "pytest",
            },
            "requestId": "req",
            "routeKey": "POST /orders",
            "stage": "$default",
            "time": "01/Dec/2026:08:00:00 +0000",
            "timeEpoch": 1796112000000,
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    response = handler("create_order")(event, Context())
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def delivered(event: dict[str, Any], message_id: str) -> dict[str, Any]:
    """One SQS record holding an EventBridge event, as the consumer receives it."""
    envelope = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "account": ACCOUNT,
        "region": REGION,
        "resources": [],
        **event,
    }
    return {
        "messageId": message_id,
        "receiptHandle": f"r-{message_id}",
        "body": json.dumps(envelope),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1796112000000",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1796112000000",
        },
        "messageAttributes": {},
        "md5OfBody": "-",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders",
        "awsRegion": REGION,
    }


def test_an_order_and_its_outbox_record_are_written_together_once(stack: Stack) -> None:
    status, order, headers = post(BODY, key="k-1")
    again = post(BODY, key="k-1")  # the client retries: the first answer, nothing new

    assert status == 201 and order["total"] == "25.00" and "Idempotent-Replayed" not in headers
    assert again[0] == 201 and again[1] == order and again[2]["Idempotent-Replayed"] == "true"
    [row] = stack.items("orders")
    [record] = stack.items("outbox")
    assert row["order_id"]["S"] == order["order_id"] and row["event_id"]["S"] == order["event_id"]
    assert record["event_id"]["S"] == order["event_id"] and record["status"]["S"] == "PENDING"


def test_a_rejected_request_writes_nothing(stack: Stack) -> None:
    status, answer, _ = post({**BODY, "items": []}, key="k-bad")

    assert status == 400 and answer["error"] == "ValidationError"
    assert stack.items("orders") == stack.items("outbox") == stack.items("idempotency") == []


def test_the_relay_publishes_each_new_record_once_and_marks_it(stack: Stack) -> None:
    made = [post({**BODY, "customer_id": f"cust-{i}"}, key=f"k-{i}")[1] for i in range(2)]

    assert handler("relay")({"Records": stack.stream_records()}, Context()) == {
        "batchItemFailures": []
    }
    events = stack.published()
    assert sorted(e["detail"]["event_id"] for e in events) == sorted(m["event_id"] for m in made)
    assert {r["status"]["S"] for r in stack.items("outbox")} == {"PUBLISHED"}
    handler("relay")({"Records": stack.stream_records()}, Context())  # the batch retried
    assert stack.published() == []


def test_the_consumer_applies_an_event_once_however_often_it_arrives(stack: Stack) -> None:
    post(BODY, key="k-1")
    handler("relay")({"Records": stack.stream_records()}, Context())
    [event] = stack.published()
    batch = [
        delivered(event, "m-0"),
        delivered(event, "m-1"),
        {**delivered(event, "m-2"), "body": "{}"},
    ]

    response = handler("consumer")({"Records": batch}, Context())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}  # only what cannot parse
    key = ledger.customer_key(BODY["customer_id"])
    [customer] = [i for i in stack.items("ledger") if i["pk"]["S"] == key]
    assert customer["order_count"]["N"] == "1"
