"""Fixtures of the stepfunctions-saga tests.

Unit tests run the handlers in-process against moto (`saga_tables`). The end-to-end tests use
`saga`, built on the catalog plugin's `deployed_pattern` (`catalog.testing`): the pattern's
Terraform root deployed once per session to the embedded AWS, running the built zips.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from catalog.localaws import LambdaContext

PATTERN_DIR = Path(__file__).resolve().parents[1]
SRC_DIR = PATTERN_DIR / "src"
# --import-mode=importlib puts neither folder on sys.path: the handlers' package (`sfn_saga`) and
# the end-to-end helpers (`sfn_saga_e2e`, named to be unique across the catalog).
for folder in (SRC_DIR, PATTERN_DIR / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from sfn_saga import tables  # noqa: E402

REGION = "us-east-1"
KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
TABLE_ENV = {
    "orders": tables.ORDERS_TABLE_ENV,
    "inventory": tables.INVENTORY_TABLE_ENV,
    "payments": tables.PAYMENTS_TABLE_ENV,
}


@pytest.fixture
def lambda_context() -> LambdaContext:
    """What Powertools' inject_lambda_context reads, as the embedded AWS's invoker sets it."""
    return LambdaContext.for_function("stepfunctions-saga-test")


def create_tables(resource: Any, names: dict[str, str]) -> dict[str, Any]:
    """The three tables as the IaC declares them (on-demand, one string hash key each)."""
    created = {}
    for logical, name in names.items():
        created[logical] = resource.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": KEYS[logical], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": KEYS[logical], "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return created


@pytest.fixture
def saga_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in-process with three fresh tables; the handlers' environment points at them.

    The embedded AWS of the catalog plugin shares moto's process-global backends, so this fixture
    neither resets moto on start nor wipes it on stop (that would destroy deployed stacks): it
    uses tables of its own and deletes them afterwards.
    """
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # talk to the in-process mock, not a server
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    suffix = uuid.uuid4().hex[:10]
    names = {logical: f"unit-{suffix}-{logical}" for logical in KEYS}
    for logical, env_name in TABLE_ENV.items():
        monkeypatch.setenv(env_name, names[logical])
    tables.reset_clients()
    mock = mock_aws(config={"core": {"reset_boto3_session": False}})
    mock.start(reset=False)
    created: dict[str, Any] = {}
    try:
        created = create_tables(boto3.resource("dynamodb", region_name=REGION), names)
        yield created
    finally:
        for table in created.values():
            table.delete()
        mock.stop(remove_data=False)
        tables.reset_clients()


@pytest.fixture
def saga(deployed_pattern: Any) -> Iterator[Any]:
    """The deployed saga with empty tables, no faults, and retry intervals recorded not slept."""
    import logging

    from sfn_saga_e2e import Saga

    # failed executions make moto's interpreter log whole states; the history has what we need
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    driver = Saga(deployed_pattern("stepfunctions-saga"))
    driver.reset()
    recording = driver.aws.record_retry_sleeps
    driver.aws.record_retry_sleeps = True
    driver.aws.retry_sleeps.clear()
    driver.aws.invocations.clear()
    yield driver
    driver.aws.faults.clear()
    driver.aws.record_retry_sleeps = recording
