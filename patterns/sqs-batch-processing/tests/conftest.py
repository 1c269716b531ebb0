"""Fixtures of the sqs-batch-processing tests.

Handler tests (`test_batch_handlers.py`) import the functions from src/ and run them in-process
against moto (`unit_aws`). End-to-end tests deploy the Terraform root to the embedded AWS once per
session (`deployed_pattern` from the catalog plugin) and send messages with the catalog's `queue`
driver; the deployed event-source mapping runs when the embedded AWS settles.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog.localaws import LambdaContext

PATTERN = "sqs-batch-processing"
SRC_DIR = Path(__file__).resolve().parents[1] / "src"
TESTS_DIR = Path(__file__).resolve().parent
# --import-mode=importlib puts neither folder on sys.path: the functions' package
# (`sqs_batch_processing`) and the helper module next to this file (`batch_e2e`).
for folder in (SRC_DIR, TESTS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

REGION = "us-east-1"
READINGS, TOTALS = "unit-readings", "unit-sensor-totals"
MAX_RECEIVE_COUNT = 3

# What Powertools reads from the Lambda context, as the embedded AWS's invoker sets it.
FakeLambdaContext = functools.partial(LambdaContext.for_function, "sqs-batch-processing-unit", 256)


@dataclass
class UnitAws:
    dynamodb: Any
    sqs: Any
    source_url: str
    source_arn: str
    dlq_url: str


@pytest.fixture
def unit_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[UnitAws]:
    """moto in-process: both tables, the source queue and its DLQ; the functions' env set."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "READINGS_TABLE": READINGS,
        "SENSOR_TOTALS_TABLE": TOTALS,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from sqs_batch_processing import sdk

    sdk.client.cache_clear()
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for table, key in ((READINGS, "message_id"), (TOTALS, "sensor_id")):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="unit-readings-dlq")["QueueUrl"]
        dlq_arn = _arn(sqs, dlq_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
        source_url = sqs.create_queue(
            QueueName="unit-readings", Attributes={"RedrivePolicy": json.dumps(redrive)}
        )["QueueUrl"]
        monkeypatch.setenv("DLQ_URL", dlq_url)
        monkeypatch.setenv("SOURCE_QUEUE_URL", source_url)
        yield UnitAws(dynamodb, sqs, source_url, _arn(sqs, source_url), dlq_url)
    sdk.client.cache_clear()


def _arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


@pytest.fixture(scope="session")
def batch_stack(deployed_pattern: Any) -> Any:
    """The pattern deployed with Terraform to the embedded AWS."""
    return deployed_pattern(PATTERN)
