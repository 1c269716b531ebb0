"""The outbox's path through its three handlers, needing only src/, its requirements, moto and
pytest.

`catalog export` keeps this module (it imports nothing of the catalog and uses no fixture of
conftest.py; `moto_aws` and `lambda_context` come from the plugin catalog.moto_fixtures, which the
export carries), so a user of the exported folder can run it: an HTTP request creates the order and
its outbox record in one transaction, the relay publishes what the table's stream shows, the
consumer applies each event once.
"""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from transactional_outbox import clients, ledger

REGION = "us-east-1"
ACCOUNT = "123456789012"
BODY = {
    "customer_id": "cust-7",
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "12.50"}],
}


@dataclass
class Stack:
    dynamodb: Any
    names: dict[str, str]
    queue_url: str
    context: Any

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
def stack(moto_aws: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """In-process moto (the `moto_aws` fixture): the four tables (outbox with a stream), the bus
    with a rule to a queue."""
    # create_order binds its idempotency table when first imported, and in the catalog's suite
    # conftest.py's unit tests share that import: the same names as theirs ("unit-...").
    keys = {"orders": "order_id", "outbox": "event_id", "idempotency": "id", "ledger": "pk"}
    names = {
        table: moto_aws.table(f"unit-{table}", key, "NEW_IMAGE" if table == "outbox" else None)
        for table, key in keys.items()
    }
    bus, source = "unit-orders-bus", "transactional-outbox.orders"
    queue_url, queue_arn = moto_aws.queue("unit-standalone-events")
    moto_aws.bus_to_queue(bus, source, queue_arn)
    environment = {
        "EVENT_BUS_NAME": bus,
        "EVENT_SOURCE": source,
        **{f"{table.upper()}_TABLE": name for table, name in names.items()},
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    clients._clients.clear()
    moto_aws.on_teardown(clients._clients.clear)
    return Stack(moto_aws.client("dynamodb"), names, queue_url, lambda_context)


def handler(function: str) -> Any:
    """A function's handler, imported once its environment is set (it reads it on import)."""
    return importlib.import_module(f"transactional_outbox.functions.{function}").handler


def post(
    stack: Stack, body: dict[str, Any], key: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
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
    response = handler("create_order")(event, stack.context)
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
    status, order, headers = post(stack, BODY, key="k-1")
    again = post(stack, BODY, key="k-1")  # the client retries: the first answer, nothing new

    assert status == 201 and order["total"] == "25.00" and "Idempotent-Replayed" not in headers
    assert again[0] == 201 and again[1] == order and again[2]["Idempotent-Replayed"] == "true"
    [row] = stack.items("orders")
    [record] = stack.items("outbox")
    assert row["order_id"]["S"] == order["order_id"] and row["event_id"]["S"] == order["event_id"]
    assert record["event_id"]["S"] == order["event_id"] and record["status"]["S"] == "PENDING"


def test_a_rejected_request_writes_nothing(stack: Stack) -> None:
    status, answer, _ = post(stack, {**BODY, "items": []}, key="k-bad")

    assert status == 400 and answer["error"] == "ValidationError"
    assert stack.items("orders") == stack.items("outbox") == stack.items("idempotency") == []


def test_the_relay_publishes_each_new_record_once_and_marks_it(stack: Stack) -> None:
    made = [post(stack, {**BODY, "customer_id": f"cust-{i}"}, key=f"k-{i}")[1] for i in range(2)]

    assert handler("relay")({"Records": stack.stream_records()}, stack.context) == {
        "batchItemFailures": []
    }
    events = stack.published()
    assert sorted(e["detail"]["event_id"] for e in events) == sorted(m["event_id"] for m in made)
    assert {r["status"]["S"] for r in stack.items("outbox")} == {"PUBLISHED"}
    handler("relay")({"Records": stack.stream_records()}, stack.context)  # the batch retried
    assert stack.published() == []


def test_the_consumer_applies_an_event_once_however_often_it_arrives(stack: Stack) -> None:
    post(stack, BODY, key="k-1")
    handler("relay")({"Records": stack.stream_records()}, stack.context)
    [event] = stack.published()
    batch = [
        delivered(event, "m-0"),
        delivered(event, "m-1"),
        {**delivered(event, "m-2"), "body": "{}"},
    ]

    response = handler("consumer")({"Records": batch}, stack.context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}  # only what cannot parse
    key = ledger.customer_key(BODY["customer_id"])
    [customer] = [i for i in stack.items("ledger") if i["pk"]["S"] == key]
    assert customer["order_count"]["N"] == "1"
