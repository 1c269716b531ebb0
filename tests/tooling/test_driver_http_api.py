"""The http_api driver: API Gateway v2 emulation, the stream and queue poller models, and one run
against the embedded AWS (HTTP route -> function -> queue -> consumer, with faults and a DLQ)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.drivers import http_api
from catalog.drivers.base import DriverContext, DriverError
from catalog.drivers.http_api import (
    PollerStats,
    _map_v2_response,
    _match_route,
    _pattern_matches,
    _proxy_event_v2,
    _Route,
    _StreamPoller,
    requests_of,
)
from catalog.localaws import LocalAws
from catalog.patterns import Pattern
from catalog.scenarios import Fault, Scenario

ARN = "arn:aws:lambda:us-east-1:123456789012:function:stack-relay"
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/stack-outbox/stream/2025-01-01T00:00:00.000"
DESTINATION = "arn:aws:sqs:us-east-1:123456789012:stack-relay-failures"

# ================================================================ API Gateway v2 emulation


def _routes() -> list[_Route]:
    domain = "abc123.execute-api.us-east-1.amazonaws.com"
    return [
        _Route("abc123", "POST /orders", ARN, domain),
        _Route("abc123", "GET /orders/{id}", ARN, domain),
        _Route("abc123", "GET /orders/latest", ARN, domain),
        _Route("abc123", "ANY /files/{path+}", ARN, domain),
    ]


def test_routes_match_like_api_gateway() -> None:
    routes = _routes()
    assert _match_route(routes, "POST", "/orders").route_key == "POST /orders"  # type: ignore[union-attr]
    assert _match_route(routes, "GET", "/orders/latest").route_key == "GET /orders/latest"  # type: ignore[union-attr]
    assert _match_route(routes, "GET", "/orders/42").route_key == "GET /orders/{id}"  # type: ignore[union-attr]
    assert _match_route(routes, "PUT", "/files/a/b").route_key == "ANY /files/{path+}"  # type: ignore[union-attr]
    assert _match_route(routes, "DELETE", "/orders") is None


def test_proxy_event_is_payload_format_2() -> None:
    route = _routes()[1]
    event = _proxy_event_v2(route, "GET", "/orders/42?a=1&a=2&b=x", {"X-Trace": "t"}, None)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /orders/{id}"
    assert event["rawPath"] == "/orders/42" and event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["headers"]["x-trace"] == "t"  # lower-cased, as HTTP APIs do
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"
    assert "body" not in event
    posted = _proxy_event_v2(_routes()[0], "POST", "/orders", {}, '{"x": 1}')
    assert posted["body"] == '{"x": 1}' and posted["headers"]["content-length"] == "8"


def test_iam_routes_carry_the_caller_and_are_signed_on_aws() -> None:
    iam_route = _Route(
        "abc123", "POST /orders", ARN, "abc123.execute-api.us-east-1.amazonaws.com", "AWS_IAM"
    )
    event = _proxy_event_v2(iam_route, "POST", "/orders", {}, "{}")
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"
    assert (
        "authorizer"
        not in _proxy_event_v2(_routes()[0], "POST", "/orders", {}, "{}")["requestContext"]
    )

    import boto3

    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1"
    )
    ctx = DriverContext(pattern=Pattern(Path(__file__).parent), outputs={}, session=session)
    headers = http_api.HttpApiRun(ctx)._sigv4(
        "POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/orders", {"A": "b"}, "{}"
    )
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["A"] == "b"


def test_results_map_like_api_gateway() -> None:
    assert _map_v2_response(
        json.dumps({"statusCode": 409, "body": "{}", "headers": {"A": "b"}})
    ) == (
        409,
        {"A": "b"},
        "{}",
    )
    # A result without statusCode is a 200 JSON body.
    assert _map_v2_response(json.dumps({"x": 1})) == (
        200,
        {"content-type": "application/json"},
        '{"x": 1}',
    )
    encoded = {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}
    assert _map_v2_response(json.dumps(encoded))[2] == "hi"


def test_requests_of_accepts_one_or_many() -> None:
    assert requests_of({"method": "GET", "path": "/"}) == [{"method": "GET", "path": "/"}]
    assert len(requests_of({"requests": [{"path": "/a"}, {"path": "/b"}]})) == 2
    with pytest.raises(DriverError):
        requests_of({"requests": "nope"})


def test_filter_patterns() -> None:
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"n": {"N": "5"}, "s": {"S": "abc"}}}}
    assert _pattern_matches({"eventName": ["INSERT"]}, record)
    assert not _pattern_matches({"eventName": ["MODIFY", "REMOVE"]}, record)
    assert _pattern_matches({"dynamodb": {"NewImage": {"n": {"N": [5]}}}}, record)
    assert _pattern_matches({"dynamodb": {"NewImage": {"s": {"S": [{"prefix": "ab"}]}}}}, record)
    assert _pattern_matches({"eventName": [{"anything-but": ["REMOVE"]}]}, record)
    assert _pattern_matches({"dynamodb": {"OldImage": [{"exists": False}]}}, record)
    with pytest.raises(DriverError):
        _pattern_matches({"eventName": [{"numeric": [">", 1]}]}, record)


# ================================================================ stream poller model (fakes)


class FakeLambda:
    """Answers invocations with `behave(records) -> (payload, function_error)`."""

    def __init__(self, behave: Any) -> None:
        self.behave = behave
        self.batches: list[list[str]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        records = json.loads(Payload)["Records"]
        self.batches.append([r["dynamodb"]["SequenceNumber"] for r in records])
        payload, error = self.behave(records)
        answer: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(payload).encode())}
        if error:
            answer["FunctionError"] = "Unhandled"
        return answer


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append((QueueUrl, json.loads(MessageBody)))


class FakeRun:
    def __init__(self, function: FakeLambda) -> None:
        self.clients = {"lambda": function, "sqs": FakeSqs(), "dynamodbstreams": object()}
        self.stats: dict[str, PollerStats] = {}

    def client(self, service: str) -> Any:
        return self.clients[service]

    def short_name(self, function: str) -> str:
        return "relay"


def _records(n: int, age: timedelta = timedelta(0)) -> list[dict[str, Any]]:
    created = datetime.now(UTC) - age
    return [
        {
            "eventID": f"e{i}",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": created,
                "Keys": {"id": {"S": f"k{i}"}},
                "NewImage": {"id": {"S": f"k{i}"}},
                "SequenceNumber": str(100 + i),
                "SizeBytes": 10,
                "StreamViewType": "NEW_IMAGE",
            },
        }
        for i in range(n)
    ]


def _poller(behave: Any, **settings: Any) -> tuple[_StreamPoller, FakeLambda, FakeSqs]:
    function = FakeLambda(behave)
    run = FakeRun(function)
    mapping = {
        "UUID": str(uuid.uuid4()),
        "EventSourceArn": STREAM,
        "FunctionArn": ARN,
        "BatchSize": 10,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": -1,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": DESTINATION}},
        **settings,
    }
    return _StreamPoller(run, mapping), function, run.clients["sqs"]  # type: ignore[arg-type]


def _poisoned(records: list[dict[str, Any]], poison: str, partial: bool) -> tuple[Any, bool]:
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    if poison not in sequences:
        return {"batchItemFailures": []}, False
    if partial and len(records) > 1:
        return {"batchItemFailures": [{"itemIdentifier": poison}]}, False
    return {"errorType": "PoisonRecordError", "errorMessage": "bad"}, True


def test_successful_batch_is_one_invocation() -> None:
    poller, function, sqs = _poller(lambda r: ({"batchItemFailures": []}, False))
    poller._deliver("shard-1", _records(4), 0)
    assert function.batches == [["100", "101", "102", "103"]]
    assert sqs.sent == []


def test_partial_failure_retries_from_the_lowest_failed_record() -> None:
    answers = iter([({"batchItemFailures": [{"itemIdentifier": "102"}]}, False)])
    poller, function, _ = _poller(lambda r: next(answers, ({"batchItemFailures": []}, False)))
    poller._deliver("shard-1", _records(4), 0)
    assert function.batches == [["100", "101", "102", "103"], ["102", "103"]]


def test_function_error_bisects_and_parks_only_the_poison_record() -> None:
    poller, function, sqs = _poller(lambda r: _poisoned(r, "101", partial=False))
    poller._deliver("shard-1", _records(4), 0)
    # [100-103] fails -> halves; [100,101] fails -> [100] ok, [101] retried twice then parked;
    # [102,103] ok. Splitting is not a retry.
    assert function.batches == [
        ["100", "101", "102", "103"],
        ["100", "101"],
        ["100"],
        ["101"],
        ["101"],
        ["101"],
        ["102", "103"],
    ]
    ((url, parked),) = sqs.sent
    assert url == "https://sqs/stack-relay-failures"
    info = parked["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "101",
        "101",
        1,
    )
    assert info["streamArn"] == STREAM and info["shardId"] == "shard-1"
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["requestContext"]["approximateInvokeCount"] == 3
    assert parked["responseContext"]["functionError"] == "Unhandled"


def test_partial_response_parks_the_range_from_the_poison_record() -> None:
    poller, function, sqs = _poller(lambda r: _poisoned(r, "101", partial=True))
    poller._deliver("shard-1", _records(4), 0)
    assert function.batches[0] == ["100", "101", "102", "103"]
    assert function.batches[1:] == [["101", "102", "103"]] * 2
    ((_, parked),) = sqs.sent
    info = parked["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "101",
        "103",
        3,
    )


def test_records_older_than_the_maximum_age_are_parked_without_invoking() -> None:
    poller, function, sqs = _poller(
        lambda r: ({"batchItemFailures": []}, False), MaximumRecordAgeInSeconds=60
    )
    poller._deliver("shard-1", _records(2, age=timedelta(minutes=5)), 0)
    assert function.batches == []
    assert sqs.sent[0][1]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_unknown_item_identifier_fails_the_whole_batch() -> None:
    answers = iter([({"batchItemFailures": [{"itemIdentifier": "nope"}]}, False)])
    poller, function, _ = _poller(
        lambda r: next(answers, ({"batchItemFailures": []}, False)),
        BisectBatchOnFunctionError=False,
    )
    poller._deliver("shard-1", _records(2), 0)
    assert function.batches == [["100", "101"], ["100", "101"]]


def test_infinite_retries_are_bounded_by_the_driver() -> None:
    poller, _, _ = _poller(
        lambda r: ({"errorType": "Boom"}, True),
        MaximumRetryAttempts=-1,
        BisectBatchOnFunctionError=False,
    )
    with pytest.raises(DriverError):
        poller._deliver("shard-1", _records(1), 0)


class FakeStreams:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        after = kwargs.get("SequenceNumber")
        return {"ShardIterator": json.dumps(after)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        after = json.loads(ShardIterator)
        fresh = [
            r
            for r in self.records
            if after is None or int(r["dynamodb"]["SequenceNumber"]) > int(after)
        ]
        return {"Records": fresh, "NextShardIterator": None}


def test_poll_applies_the_filter_and_checkpoints() -> None:
    records = _records(3)
    records[1]["eventName"] = "MODIFY"
    poller, function, _ = _poller(
        lambda r: ({"batchItemFailures": []}, False),
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
    )
    poller.streams = FakeStreams(records)
    assert poller.poll() is True
    assert function.batches == [["100", "102"]]
    # The lambda event carries eventSourceARN and epoch seconds, as Lambda sends it.
    assert poller.poll() is False  # nothing after the checkpoint
    records += _records(4)[3:]
    assert poller.poll() is True
    assert function.batches[-1] == ["103"]


# ================================================================ one run on the embedded AWS

API_CODE = """\
import json
import os

import boto3


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    if "n" not in body:
        return {"statusCode": 400, "body": json.dumps({"error": "MissingN"})}
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(body))
    return {"statusCode": 201, "headers": {"x-route": event["routeKey"]}, "body": json.dumps(body)}
"""
CONSUMER_CODE = """\
import json


def handler(event, context):
    bad = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == "bad"]
    return {"batchItemFailures": [{"itemIdentifier": m} for m in bad]}
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def embedded() -> Iterator[LocalAws]:
    running = LocalAws.running()
    if running is not None:
        yield running  # share the session's; everything below is uniquely named and removed
        return
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def stack(embedded: LocalAws) -> Iterator[DriverContext]:
    suffix = uuid.uuid4().hex[:8]
    iam, lam, sqs, apigw = (embedded.client(s) for s in ("iam", "lambda", "sqs", "apigatewayv2"))
    role = iam.create_role(RoleName=f"drv-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    dlq = sqs.create_queue(QueueName=f"drv-{suffix}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    work = sqs.create_queue(
        QueueName=f"drv-{suffix}-work",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    work_arn = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    functions = {}
    for name, code, env in (
        ("api", API_CODE, {"QUEUE_URL": work}),
        ("consumer", CONSUMER_CODE, {}),
    ):
        functions[name] = lam.create_function(
            FunctionName=f"drv-{suffix}-{name}",
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip(code)},
            Environment={"Variables": env},
        )["FunctionArn"]
    mapping = lam.create_event_source_mapping(
        EventSourceArn=work_arn,
        FunctionName=functions["consumer"],
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    api = apigw.create_api(Name=f"drv-{suffix}", ProtocolType="HTTP")
    integration = apigw.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=functions["api"],
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    apigw.create_route(
        ApiId=api["ApiId"], RouteKey="POST /things", Target=f"integrations/{integration}"
    )
    outputs = {
        "api_endpoint": f"https://{api['ApiId']}.execute-api.us-east-1.amazonaws.com",
        "function_names": {"api": f"drv-{suffix}-api", "consumer": f"drv-{suffix}-consumer"},
        "queue_urls": {"work": work, "dlq": dlq},
        "table_names": {},
    }
    yield DriverContext(pattern=Pattern(Path(__file__).parent), outputs=outputs, aws=embedded)
    embedded.faults.clear()
    apigw.delete_api(ApiId=api["ApiId"])
    lam.delete_event_source_mapping(UUID=mapping)
    for arn in functions.values():
        lam.delete_function(FunctionName=arn)
    for url in (work, dlq):
        sqs.delete_queue(QueueUrl=url)
    iam.delete_role(RoleName=f"drv-{suffix}")


def _scenario(requests: list[dict[str, Any]], faults: tuple[Fault, ...] = ()) -> Scenario:
    return Scenario(name="t", description="", input={"requests": requests}, faults=faults)


def test_run_routes_retries_and_pumps_the_queue(stack: DriverContext) -> None:
    scenario = _scenario(
        [
            {"path": "/things", "body": {"n": 1}, "retry": {"attempts": 2, "on": [500]}},
            {"path": "/things", "body": {"n": 2}},
        ],
        faults=(Fault("api", "Boom", "before", 1),),
    )
    result = http_api.run_scenario(stack, scenario)
    assert result.status == "SUCCEEDED", result.details
    first, second = result.details["http"]
    assert (first["status"], first["attempts"]) == (201, 2)  # the injected 500, then the retry
    assert first["headers"]["x-route"] == "POST /things"
    assert second["body"] == {"n": 2}
    steps = {s.name: s for s in result.steps}
    assert steps["api"].attempts == 3 and steps["consumer"].attempts >= 1
    assert result.details["pollers"]["consumer"]["records"] == 2
    # The driver disabled the emulator's own poller: it did the polling itself.
    mapping = stack.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert {m["State"] for m in mapping if m["FunctionArn"].endswith("-consumer")} == {"Disabled"}


def test_run_reports_http_errors_and_dead_letters(stack: DriverContext) -> None:
    rejected = http_api.run_scenario(stack, _scenario([{"path": "/things", "body": {}}]))
    assert (rejected.status, rejected.error) == ("FAILED", "MissingN")
    missing = http_api.run_scenario(stack, _scenario([{"method": "GET", "path": "/nowhere"}]))
    assert missing.details["http"][0]["status"] == 404
    poisoned = http_api.run_scenario(stack, _scenario([{"path": "/things", "body": {"n": "bad"}}]))
    assert (poisoned.status, poisoned.error) == ("FAILED", "MovedToDeadLetterQueue")
    assert poisoned.details["pollers"]["consumer"]["invocations"] == 2  # maxReceiveCount
    dlq = poisoned.details["failure_queues"]["dlq"]
    assert dlq["new_messages"] == 1 and dlq["messages"] == [{"n": "bad"}]


def test_rows_are_picked_by_identifiers_only() -> None:
    scenario = Scenario(
        name="t",
        description="",
        input={
            "method": "POST",
            "path": "/orders",
            "headers": {"Idempotency-Key": "key-0001", "Content-Type": "application/json"},
            "body": {"customer_id": "cust-7", "currency": "EUR", "note": "hello world"},
        },
        seed={"outbox": [{"event_id": "poison-0001"}]},
    )
    exchange = http_api.HttpExchange(
        "POST", "/orders", 201, {}, {"order_id": "0b9e8d7c-6a5f", "status": "CREATED"}, 1, 0.1
    )
    assert http_api._needles(scenario, [exchange]) == {
        "key-0001",
        "cust-7",
        "poison-0001",
        "0b9e8d7c-6a5f",
    }
