"""The http_api driver: requests in (with client retries), the embedded AWS settles, the report
out (steps, tables and link keys from the pattern's metadata), with faults and a DLQ. The emulation
itself (HTTP APIs, event sources) is tested in test_localaws_http_api.py and
test_localaws_event_sources.py."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.drivers import http_api
from catalog.drivers.base import DriverContext, DriverError
from catalog.drivers.http_api import requests_of
from catalog.localaws import LocalAws
from catalog.patterns import Pattern
from catalog.scenarios import Fault, Scenario


def test_requests_of_accepts_one_or_many() -> None:
    assert requests_of({"method": "GET", "path": "/"}) == [{"method": "GET", "path": "/"}]
    assert len(requests_of({"requests": [{"path": "/a"}, {"path": "/b"}]})) == 2
    with pytest.raises(DriverError):
        requests_of({"requests": "nope"})


def test_requests_to_iam_routes_are_signed_on_aws() -> None:
    import boto3

    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1"
    )
    ctx = DriverContext(pattern=Pattern(Path(__file__).parent), outputs={}, session=session)
    headers = http_api.HttpApiRun(ctx)._sigv4(
        "POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/things", {"A": "b"}, "{}"
    )
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["A"] == "b"


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


REPORT = {
    "steps": [
        {"name": "front door", "observe": "requests"},
        {"name": "worker", "observe": "function", "function": "consumer"},
    ],
    "linkKeys": ["ref"],
}


@pytest.fixture
def things_pattern(tmp_path: Path) -> Pattern:
    """A pattern folder whose metadata says what the report shows."""
    root = tmp_path / "http-things"
    root.mkdir()
    metadata = {"catalog": {"driver": {"kind": "http_api"}, "report": REPORT}}
    (root / "example-pattern.json").write_text(json.dumps(metadata))
    return Pattern(root)


@pytest.fixture
def stack(embedded: LocalAws, things_pattern: Pattern) -> Iterator[DriverContext]:
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
    yield DriverContext(pattern=things_pattern, outputs=outputs, aws=embedded)
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
    # The steps are the metadata's, named and listed as it says.
    assert [(s.name, s.kind) for s in result.steps] == [
        ("front door", "request"),
        ("worker", "function"),
    ]
    assert result.steps[0].attempts == 3 and result.steps[1].attempts >= 1
    assert result.details["pollers"]["consumer"]["records"] == 2
    # The embedded AWS ran the deployed mapping; the driver left it as deployed.
    mapping = stack.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert {m["State"] for m in mapping if m["FunctionArn"].endswith("-consumer")} == {"Enabled"}


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
            "path": "/things",
            "headers": {"Idempotency-Key": "key-0001", "Content-Type": "application/json"},
            "body": {"owner_id": "owner-7", "currency": "EUR", "note": "hello world"},
        },
        seed={"things": [{"thing_id": "poison-0001"}]},
    )
    exchange = http_api.HttpExchange(
        "POST", "/things", 201, {}, {"thing_id": "0b9e8d7c-6a5f", "status": "CREATED"}, 1, 0.1
    )
    assert http_api._needles(scenario, [exchange]) == {
        "key-0001",
        "owner-7",
        "poison-0001",
        "0b9e8d7c-6a5f",
    }
