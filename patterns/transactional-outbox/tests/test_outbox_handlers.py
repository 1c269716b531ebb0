"""The three handlers in-process against moto (no Terraform): validation, idempotency, the single
transaction, the relay's publishing rules and the consumer's dedupe."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import TABLES, FakeLambdaContext, UnitAws
from transactional_outbox import ledger, orders, publisher
from transactional_outbox.models import CreateOrderRequest, OrderCreatedDetail, OutboxRecord

BODY = {
    "customer_id": "cust-1",
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "12.50"}],
}


def http_event(body: Any, key: str | None = None, base64: bool = False) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["idempotency-key"] = key
    text = body if isinstance(body, str) else json.dumps(body)
    if base64:
        import base64 as b64

        text = b64.b64encode(text.encode()).decode()
    return {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.execute-api.us-east-1.amazonaws.com",
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
            "time": "23/Nov/2025:08:00:00 +0000",
            "timeEpoch": 1763884800000,
        },
        "body": text,
        "isBase64Encoded": base64,
    }


@pytest.fixture
def create_order(aws: UnitAws) -> Any:
    from transactional_outbox.functions import create_order as module

    return module


def call(module: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = module.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def count(aws: UnitAws, table: str) -> int:
    return int(aws.dynamodb.scan(TableName=TABLES[table][0], Select="COUNT")["Count"])


def stream_records(aws: UnitAws) -> list[dict[str, Any]]:
    arn = aws.dynamodb.describe_table(TableName=TABLES["outbox"][0])["Table"]["LatestStreamArn"]
    shard = aws.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = aws.streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = aws.streams.get_records(ShardIterator=iterator)["Records"]
    for record in records:  # as Lambda passes them
        record["eventSourceARN"] = arn
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    return records


# ---------------------------------------------------------------- create-order


def test_creates_order_and_outbox_record_together(aws: UnitAws, create_order: Any) -> None:
    status, body, headers = call(create_order, http_event(BODY, key="k-1"))
    assert status == 201
    assert body["total"] == "25.00" and body["status"] == "CREATED"
    assert "Idempotent-Replayed" not in headers
    order = aws.dynamodb.get_item(
        TableName=TABLES["orders"][0], Key={"order_id": {"S": body["order_id"]}}
    )["Item"]
    outbox = aws.dynamodb.get_item(
        TableName=TABLES["outbox"][0], Key={"event_id": {"S": body["event_id"]}}
    )["Item"]
    assert order["event_id"]["S"] == body["event_id"]
    assert outbox["status"]["S"] == "PENDING"
    detail = OrderCreatedDetail.model_validate_json(outbox["payload"]["S"])
    assert detail.order_id == body["order_id"] and str(detail.total) == "25.00"
    assert int(outbox["expires_at"]["N"]) > 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("not json", {("body",)}),
        ({"customer_id": "c", "items": []}, {("body", "items")}),
        (
            {"customer_id": "c", "items": [{"sku": "a", "quantity": True, "unit_price": 0}]},
            {
                ("body", "items", 0, "sku"),
                ("body", "items", 0, "quantity"),
                ("body", "items", 0, "unit_price"),
            },
        ),
        ({**BODY, "currency": "JPY"}, {("body", "currency")}),
        ({**BODY, "extra": 1}, {("body", "extra")}),
        ({"items": BODY["items"]}, {("body", "customer_id")}),
        (
            {**BODY, "items": [{"sku": "A-1", "quantity": 1, "unit_price": "1.001"}]},
            {("body", "items", 0, "unit_price")},
        ),
    ],
)
def test_bad_body_is_400_and_writes_nothing(
    aws: UnitAws, create_order: Any, body: Any, fields: set[tuple[Any, ...]]
) -> None:
    status, answer, _ = call(create_order, http_event(body, key="k-bad"))
    assert status == 400
    assert answer["error"] == "ValidationError"
    assert {tuple(e["loc"]) for e in answer["errors"]} == fields
    assert count(aws, "orders") == count(aws, "outbox") == count(aws, "idempotency") == 0


def test_bad_idempotency_key_is_400(aws: UnitAws, create_order: Any) -> None:
    status, answer, _ = call(create_order, http_event(BODY, key="has space"))
    assert status == 400 and answer["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(aws, "orders") == 0


def test_missing_body_is_400(aws: UnitAws, create_order: Any) -> None:
    event = http_event(BODY)
    del event["body"]
    status, answer, _ = call(create_order, event)
    assert status == 400 and answer["message"] == "request body is required"


def test_base64_body_is_decoded(aws: UnitAws, create_order: Any) -> None:
    status, _, _ = call(create_order, http_event(BODY, key="k-b64", base64=True))
    assert status == 201


def test_same_key_same_body_replays_first_response(aws: UnitAws, create_order: Any) -> None:
    first = call(create_order, http_event(BODY, key="k-dup"))
    # Formatting differs, the request is the same: still a replay.
    again = call(create_order, http_event(json.dumps(BODY, indent=2), key="k-dup"))
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert count(aws, "orders") == count(aws, "outbox") == 1


def test_same_key_other_body_is_422(aws: UnitAws, create_order: Any) -> None:
    call(create_order, http_event(BODY, key="k-conflict"))
    other = {**BODY, "items": [{"sku": "BOOK-1", "quantity": 3, "unit_price": "12.50"}]}
    status, answer, _ = call(create_order, http_event(other, key="k-conflict"))
    assert status == 422 and answer["error"] == "IdempotencyKeyReused"
    assert count(aws, "orders") == 1


def test_retry_after_idempotency_record_lost_finds_the_order(
    aws: UnitAws, create_order: Any
) -> None:
    """The idempotency record expired (or a crash after the commit left none): the derived ids
    make the transaction fail on its conditions, and the existing order is returned."""
    status, first, _ = call(create_order, http_event(BODY, key="k-lost"))
    assert status == 201
    _clear(aws, "idempotency")
    status, again, headers = call(create_order, http_event(BODY, key="k-lost"))
    assert status == 201 and again["order_id"] == first["order_id"]
    assert headers["Idempotent-Replayed"] == "true"
    assert count(aws, "orders") == count(aws, "outbox") == 1
    _clear(aws, "idempotency")
    other = {**BODY, "customer_id": "someone-else"}
    status, answer, _ = call(create_order, http_event(other, key="k-lost"))
    assert status == 422 and answer["error"] == "IdempotencyKeyReused"


def test_concurrent_same_key_is_409_until_the_first_finishes(
    aws: UnitAws, create_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    original = orders.create_order

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(orders, "create_order", slow)
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(call(create_order, http_event(BODY, key="k-race")))
    )
    first.start()
    assert entered.wait(60)
    status, answer, headers = call(create_order, http_event(BODY, key="k-race"))
    release.set()
    first.join(60)
    assert status == 409 and answer["error"] == "RequestInProgress"
    assert headers["Retry-After"] == "1"
    assert results[0][0] == 201
    assert count(aws, "orders") == 1


def test_response_is_the_http_api_proxy_result(aws: UnitAws, create_order: Any) -> None:
    response = create_order.handler(http_event(BODY, key="k-shape"), FakeLambdaContext())
    assert response["statusCode"] == 201 and response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["body"] == json.dumps(json.loads(response["body"]), separators=(",", ":"))


def test_only_post_orders_is_routed(aws: UnitAws, create_order: Any) -> None:
    event = http_event(BODY, key="k-route")
    event["requestContext"]["http"]["method"] = "GET"
    assert create_order.handler(event, FakeLambdaContext())["statusCode"] == 404
    event = http_event(BODY, key="k-route")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/orders/1"
    assert create_order.handler(event, FakeLambdaContext())["statusCode"] == 404
    assert count(aws, "orders") == count(aws, "idempotency") == 0


def test_an_unexpected_error_is_a_function_error(
    aws: UnitAws, create_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not answered by an error handler: the invocation fails and API Gateway answers 500."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(orders, "create_order", broken)
    with pytest.raises(RuntimeError, match="bug"):
        create_order.handler(http_event(BODY), FakeLambdaContext())


def test_without_key_every_request_is_a_new_order(aws: UnitAws, create_order: Any) -> None:
    a = call(create_order, http_event(BODY))
    b = call(create_order, http_event(BODY))
    assert a[0] == b[0] == 201 and a[1]["order_id"] != b[1]["order_id"]
    assert count(aws, "idempotency") == 0 and count(aws, "orders") == 2


def test_transaction_is_all_or_nothing(aws: UnitAws) -> None:
    """The outbox key is taken: the transaction is cancelled and the order is not written."""
    request = CreateOrderRequest.model_validate(BODY)
    order_id = orders.order_id_for("k-atomic")
    aws.dynamodb.put_item(
        TableName=TABLES["outbox"][0],
        Item={"event_id": {"S": orders.event_id_for(order_id)}},
    )
    with pytest.raises(ClientError) as caught:
        orders.create_order(request, "k-atomic")
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert count(aws, "orders") == 0


# ---------------------------------------------------------------- relay


def _relay() -> Any:
    from transactional_outbox.functions import relay

    return relay


def _clear(aws: UnitAws, table: str) -> None:
    name, key = TABLES[table]
    for item in aws.dynamodb.scan(TableName=name)["Items"]:
        aws.dynamodb.delete_item(TableName=name, Key={key: item[key]})


def _queued(aws: UnitAws) -> list[dict[str, Any]]:
    messages = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in messages]


def _orders(aws: UnitAws, create_order: Any, n: int) -> list[dict[str, Any]]:
    created = []
    for i in range(n):
        body = {**BODY, "customer_id": f"cust-{i}"}
        created.append(call(create_order, http_event(body, key=f"k-relay-{i}"))[1])
    return created


def test_relay_publishes_and_marks(aws: UnitAws, create_order: Any) -> None:
    made = _orders(aws, create_order, 3)
    response = _relay().handler({"Records": stream_records(aws)}, FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    events = _queued(aws)
    assert sorted(e["detail"]["event_id"] for e in events) == sorted(m["event_id"] for m in made)
    assert {e["source"] for e in events} == {"transactional-outbox.orders"}
    for made_order in made:
        item = aws.dynamodb.get_item(
            TableName=TABLES["outbox"][0], Key={"event_id": {"S": made_order["event_id"]}}
        )["Item"]
        assert item["status"]["S"] == "PUBLISHED" and "published_at" in item
    # The same batch again (a retried batch): nothing is published twice.
    _relay().handler({"Records": stream_records(aws)}, FakeLambdaContext())
    assert _queued(aws) == []


def test_relay_ignores_modify_and_remove(aws: UnitAws, create_order: Any) -> None:
    _orders(aws, create_order, 1)
    relay = _relay()
    relay.handler({"Records": stream_records(aws)}, FakeLambdaContext())
    _queued(aws)
    records = [r for r in stream_records(aws) if r["eventName"] != "INSERT"]
    assert records  # the PUBLISHED mark
    assert relay.handler({"Records": records}, FakeLambdaContext()) == {"batchItemFailures": []}
    assert _queued(aws) == []


def test_poison_record_fails_alone(aws: UnitAws, create_order: Any) -> None:
    aws.dynamodb.put_item(
        TableName=TABLES["outbox"][0],
        Item={"event_id": {"S": "poison"}, "payload": {"S": "{"}, "status": {"S": "PENDING"}},
    )
    made = _orders(aws, create_order, 1)
    records = stream_records(aws)
    response = _relay().handler({"Records": records}, FakeLambdaContext())
    assert response["batchItemFailures"] == [
        {"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}
    ]
    assert [e["detail"]["event_id"] for e in _queued(aws)] == [made[0]["event_id"]]
    # Alone in its batch, the poison record is a function error: what makes the mapping bisect.
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        _relay().handler({"Records": records[:1]}, FakeLambdaContext())


class FlakyEvents:
    """PutEvents that fails chosen entries (FailedEntryCount > 0) a number of times."""

    def __init__(self, real: Any, failures: dict[str, list[str]]) -> None:
        self.real = real
        self.failures = failures  # event_id -> error codes to answer, in order
        self.calls: list[list[str]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [json.loads(e["Detail"])["event_id"] for e in Entries]
        self.calls.append(ids)
        results, send = [], []
        for event_id, entry in zip(ids, Entries, strict=True):
            codes = self.failures.get(event_id)
            if codes:
                code = codes.pop(0)
                results.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                send.append(entry)
                results.append(None)
        answer = self.real.put_events(Entries=send) if send else {"Entries": []}
        published = iter(answer["Entries"])
        entries = [r if r is not None else next(published) for r in results]
        failed = sum(1 for e in entries if e.get("ErrorCode"))
        return {"FailedEntryCount": failed, "Entries": entries}


def _outbox_records(aws: UnitAws) -> list[OutboxRecord]:
    items = aws.dynamodb.scan(TableName=TABLES["outbox"][0])["Items"]
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    return [
        OutboxRecord.model_validate({k: plain.deserialize(v) for k, v in i.items()}) for i in items
    ]


def test_put_events_retries_only_failed_entries(aws: UnitAws, create_order: Any) -> None:
    _orders(aws, create_order, 12)
    records = sorted(_outbox_records(aws), key=lambda r: r.event_id)
    flaky = FlakyEvents(aws.events, {records[3].event_id: ["ThrottlingException"]})
    report = publisher.put_events(
        records,
        "unit-orders-bus",
        "transactional-outbox.orders",
        events=flaky,
        sleep=lambda s: None,
    )
    assert report.published == {r.event_id for r in records} and not report.failed
    # Two chunks (10 + 2), then one call with the single failed entry.
    assert [len(c) for c in flaky.calls] == [10, 2, 1]
    assert flaky.calls[-1] == [records[3].event_id]


def test_put_events_does_not_retry_rejected_content(aws: UnitAws, create_order: Any) -> None:
    _orders(aws, create_order, 2)
    records = _outbox_records(aws)
    bad = records[0].event_id
    flaky = FlakyEvents(aws.events, {bad: ["MalformedDetail"]})
    report = publisher.put_events(
        records,
        "unit-orders-bus",
        "transactional-outbox.orders",
        events=flaky,
        sleep=lambda s: None,
    )
    assert report.failed == {bad: "MalformedDetail"}
    assert len(flaky.calls) == 1


def test_relay_reports_entries_that_keep_failing(
    aws: UnitAws, create_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _orders(aws, create_order, 2)
    failing = made[1]["event_id"]
    flaky = FlakyEvents(aws.events, {failing: ["ThrottlingException"] * 10})
    real_put = publisher.put_events
    monkeypatch.setattr(
        publisher,
        "put_events",
        lambda *a, **k: real_put(*a, **{**k, "events": flaky, "sleep": lambda s: None}),
    )
    records = stream_records(aws)
    response = _relay().handler({"Records": records}, FakeLambdaContext())
    failed_seq = [
        r["dynamodb"]["SequenceNumber"]
        for r in records
        if r["dynamodb"]["Keys"]["event_id"]["S"] == failing
    ]
    assert response == {"batchItemFailures": [{"itemIdentifier": failed_seq[0]}]}
    status = {r.event_id: r.status for r in _outbox_records(aws)}
    assert status == {made[0]["event_id"]: "PUBLISHED", failing: "PENDING"}


# ---------------------------------------------------------------- consumer


def _sqs_event(bodies: list[Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1763884800000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1763884800000",
                },
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:unit-events",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_consumer_applies_each_event_once(aws: UnitAws, create_order: Any) -> None:
    from transactional_outbox.functions import consumer

    made = _orders(aws, create_order, 2)
    _relay().handler({"Records": stream_records(aws)}, FakeLambdaContext())
    events = _queued(aws)
    # Every event delivered twice (a redelivery and a republish), plus one that does not parse.
    response = consumer.handler(_sqs_event([*events, *events, "{}"]), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-4"}]}
    again = consumer.handler(_sqs_event(events), FakeLambdaContext())
    assert again == {"batchItemFailures": []}
    table = TABLES["ledger"][0]
    for order in made:
        entry = aws.dynamodb.get_item(
            TableName=table, Key={"pk": {"S": ledger.event_key(order["event_id"])}}
        )["Item"]
        assert entry["order_id"]["S"] == order["order_id"]
        customer = aws.dynamodb.get_item(
            TableName=table, Key={"pk": {"S": ledger.customer_key(order["customer_id"])}}
        )["Item"]
        assert customer["order_count"]["N"] == "1"
        assert Decimal(customer["total_EUR"]["N"]) == Decimal("25.00")


def test_consumer_failure_is_reported_for_that_message_only(
    aws: UnitAws, create_order: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transactional_outbox.functions import consumer

    _orders(aws, create_order, 2)
    _relay().handler({"Records": stream_records(aws)}, FakeLambdaContext())
    events = _queued(aws)
    real = ledger.apply_order_created

    def flaky(detail: OrderCreatedDetail, message_id: str, dynamodb: Any = None) -> bool:
        if message_id == "m-0":
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "TransactWriteItems")
        return real(detail, message_id, dynamodb)

    monkeypatch.setattr(ledger, "apply_order_created", flaky)
    response = consumer.handler(_sqs_event(events), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
