"""pytest plugin: handler tests on in-process moto, one set of fixtures for every pattern.

It needs only pytest, moto (with boto3) and the standard library, because it serves two places:
the catalog loads it with `-p catalog.moto_fixtures` (pyproject.toml), and `catalog export` copies
it into an exported tests/ folder whose pytest.ini loads it as `-p moto_fixtures`, so the
standalone tests run on the same fixtures without the catalog.

moto is never reset: in the catalog's suite its process-global backends may hold a stack that the
embedded AWS deployed. A test's resources are named by the test (`moto_aws.suffix` makes names of
its own) and deleted when it ends.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # else botocore sends DynamoDB Streams calls to an account-specific host moto does not serve
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class FakeLambdaContext:
    """What handlers (and Powertools' inject_lambda_context) read from the Lambda context."""

    function_name: str = "function-under-test"
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class InProcessAws:
    """moto in-process for one test: clients in the test region, and resources that are deleted
    (last made, first deleted) when the test ends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.suffix = uuid.uuid4().hex[:8]
        self._undo: list[Callable[[], object]] = []

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def resource(self, service: str) -> Any:
        return boto3.resource(service, region_name=REGION)

    def table(self, name: str, key: str, stream_view: str | None = None) -> str:
        """An on-demand table with one string hash key (as every pattern's IaC declares them),
        with a stream of `stream_view` records when given."""
        dynamodb = self.client("dynamodb")
        stream = {"StreamEnabled": True, "StreamViewType": stream_view} if stream_view else None
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **({"StreamSpecification": stream} if stream else {}),
        )
        self.on_teardown(lambda: dynamodb.delete_table(TableName=name))
        return name

    def tables(self, keys: Mapping[str, str], prefix: str | None = None) -> dict[str, Any]:
        """One table per logical name of `keys` (name -> hash key), and the functions' variable
        that names it (`<NAME>_TABLE`, the catalog's convention) set: the boto3 `Table`s by
        logical name. Tables are called `<prefix>-<name>`, the prefix unique to the test unless
        given."""
        dynamodb = self.resource("dynamodb")
        created = {}
        for logical, key in keys.items():
            name = self.table(f"{prefix or 'test-' + self.suffix}-{logical.replace('_', '-')}", key)
            self._monkeypatch.setenv(f"{logical.upper()}_TABLE", name)
            created[logical] = dynamodb.Table(name)
        return created

    def queue(self, name: str, dead_letters: tuple[str, int] | None = None) -> tuple[str, str]:
        """An SQS queue (URL, ARN); `dead_letters` = (DLQ ARN, maxReceiveCount) sets its redrive."""
        sqs = self.client("sqs")
        attributes = {}
        if dead_letters:
            target, count = dead_letters
            policy = {"deadLetterTargetArn": target, "maxReceiveCount": count}
            attributes["RedrivePolicy"] = json.dumps(policy)
        url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        self.on_teardown(lambda: sqs.delete_queue(QueueUrl=url))
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, str(answer["Attributes"]["QueueArn"])

    def bus_to_queue(self, bus: str, source: str, queue_arn: str) -> None:
        """An EventBridge bus whose one rule sends every event of `source` to a queue."""
        events = self.client("events")
        events.create_event_bus(Name=bus)
        self.on_teardown(lambda: events.delete_event_bus(Name=bus))
        rule = f"{bus}-to-queue"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
        self.on_teardown(lambda: events.delete_rule(Name=rule, EventBusName=bus))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        self.on_teardown(lambda: events.remove_targets(Rule=rule, EventBusName=bus, Ids=["queue"]))

    def on_teardown(self, undo: Callable[[], object]) -> None:
        self._undo.append(undo)

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessAws]:
    """moto in-process with fake credentials and the test region; no endpoint or profile of the
    environment applies (the calls must reach the mock, not a server or an account)."""
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # a shared boto3 session cuts per-test client set-up from about 250 ms to 10 ms
    mock = mock_aws(config={"core": {"reset_boto3_session": False}})
    mock.start(reset=False)
    aws = InProcessAws(monkeypatch)
    try:
        yield aws
    finally:
        try:
            aws.close()
        finally:
            mock.stop(remove_data=False)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
