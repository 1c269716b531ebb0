"""Fixtures of the transactional-outbox tests.

Unit tests (`test_outbox_handlers.py`) import the handlers from src/ and run them in-process against
moto (`aws` fixture). End-to-end tests deploy the Terraform root to the embedded AWS once per session
(`deployed_pattern` from the catalog plugin) and drive it with the catalog's `http_api` driver.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog.localaws import LambdaContext

PATTERN = "transactional-outbox"
PATTERN_DIR = Path(__file__).resolve().parents[1]
SRC_DIR = PATTERN_DIR / "src"
TESTS_DIR = Path(__file__).resolve().parent
# --import-mode=importlib puts neither folder on sys.path: the handlers' package
# (`transactional_outbox`) and the helper modules next to this file (`outbox_*`).
for folder in (SRC_DIR, TESTS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

REGION = "us-east-1"
TABLES = {
    "orders": ("unit-orders", "order_id"),
    "outbox": ("unit-outbox", "event_id"),
    "idempotency": ("unit-idempotency", "id"),
    "ledger": ("unit-ledger", "pk"),
}
ENVIRONMENT = {
    "ORDERS_TABLE": TABLES["orders"][0],
    "OUTBOX_TABLE": TABLES["outbox"][0],
    "IDEMPOTENCY_TABLE": TABLES["idempotency"][0],
    "LEDGER_TABLE": TABLES["ledger"][0],
    "EVENT_BUS_NAME": "unit-orders-bus",
    "EVENT_SOURCE": "transactional-outbox.orders",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# What Powertools reads from the Lambda context, as the embedded AWS's invoker sets it.
FakeLambdaContext = functools.partial(LambdaContext.for_function, "transactional-outbox-unit", 256)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return FakeLambdaContext()


@dataclass
class UnitAws:
    dynamodb: Any
    events: Any
    sqs: Any
    streams: Any
    queue_url: str


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[UnitAws]:
    """moto in-process: the four tables, the bus, a rule to a queue; handler env set."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **ENVIRONMENT,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from transactional_outbox import clients

    from catalog.localaws.patching import Patches
    from catalog.localaws.shims import install_events_envelope_account

    clients._clients.clear()
    # In-process moto lacks the embedded AWS's shims; this test needs the EventBridge envelope one.
    patches = Patches()
    install_events_envelope_account(patches)
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for logical, (name, key) in TABLES.items():
            extra: dict[str, Any] = {}
            if logical == "outbox":
                extra["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_IMAGE",
                }
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                **extra,
            )
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=ENVIRONMENT["EVENT_BUS_NAME"])
        queue_url = sqs.create_queue(QueueName="unit-events")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="unit-order-created",
            EventBusName=ENVIRONMENT["EVENT_BUS_NAME"],
            EventPattern='{"source": ["transactional-outbox.orders"]}',
        )
        events.put_targets(
            Rule="unit-order-created",
            EventBusName=ENVIRONMENT["EVENT_BUS_NAME"],
            Targets=[{"Id": "queue", "Arn": queue_arn}],
        )
        yield UnitAws(
            dynamodb, events, sqs, boto3.client("dynamodbstreams", region_name=REGION), queue_url
        )
    patches.undo_all()
    clients._clients.clear()


# ---------------------------------------------------------------- end to end (embedded AWS)


@pytest.fixture(scope="session")
def outbox_stack(deployed_pattern: Any) -> Any:
    """The pattern deployed with Terraform to the embedded AWS; its stream and queue mappings run
    when the embedded AWS settles (catalog.localaws.event_sources)."""
    return deployed_pattern(PATTERN)
