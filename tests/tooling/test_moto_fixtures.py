"""The in-process moto fixtures (catalog.moto_fixtures), run as a user of an export runs them:
pytest with only that plugin loaded, in a folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGIN = ["-p", "catalog.moto_fixtures"]
# Two tests in order: the first makes resources through the fixture and one behind its back (as
# a stack the embedded AWS deployed would be); the second sees only the latter.
INNER = """
import os

OTHER = "made-outside-the-fixture"


def test_1_makes_resources(moto_aws):
    assert not [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]
    assert "AWS_PROFILE" not in os.environ
    dynamodb = moto_aws.client("dynamodb")
    dynamodb.create_table(
        TableName=OTHER,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made = moto_aws.tables({"orders": "order_id", "sensor_totals": "sensor_id"}, prefix="unit")
    assert os.environ["ORDERS_TABLE"] == made["orders"].name == "unit-orders"
    assert os.environ["SENSOR_TOTALS_TABLE"] == "unit-sensor-totals"
    moto_aws.table("unit-stream", "pk", "NEW_IMAGE")
    dlq_url, dlq_arn = moto_aws.queue("unit-dlq")
    url, arn = moto_aws.queue("unit-source", (dlq_arn, 3))
    moto_aws.bus_to_queue("unit-bus", "unit.source", arn)
    moto_aws.client("events").put_events(
        Entries=[{"EventBusName": "unit-bus", "Source": "unit.source", "DetailType": "t", "Detail": "{}"}]
    )
    assert moto_aws.client("sqs").receive_message(QueueUrl=url).get("Messages")


def test_2_finds_only_what_the_fixture_did_not_make(moto_aws):
    assert moto_aws.client("dynamodb").list_tables()["TableNames"] == [OTHER]
    assert moto_aws.client("sqs").list_queues().get("QueueUrls", []) == []
    buses = moto_aws.client("events").list_event_buses()["EventBuses"]
    assert [bus["Name"] for bus in buses] == ["default"]
    assert "ORDERS_TABLE" not in os.environ


def test_3_the_context_says_what_powertools_reads(lambda_context):
    assert lambda_context.invoked_function_arn.endswith(":function:" + lambda_context.function_name)
    assert lambda_context.memory_limit_in_mb > 0 and lambda_context.get_remaining_time_in_millis() > 0
"""


def test_fixtures_clean_up_their_own_resources_only_and_ignore_the_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {
        **os.environ,
        # Both would send the calls elsewhere (and fail) if the fixture kept them.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "AWS_PROFILE": "no-such-profile",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGIN, "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout, result.stdout[-500:]
