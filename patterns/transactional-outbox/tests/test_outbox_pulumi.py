"""The Pulumi program under mocks: the same resources, settings and outputs as the Terraform root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.engines.pulumi_graph import ProgramRun, run_program
from catalog.resources import output_names

PATTERN_DIR = Path(__file__).resolve().parents[1]
PROGRAM_DIR = PATTERN_DIR / "pulumi"
ACCOUNT = "arn:aws:{service}:us-east-1:123456789012"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"


# Every run of the program under mocks builds the zips: once per module is enough.
pytestmark = pytest.mark.usefixtures("zips_built_once")


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    return run_program(PROGRAM_DIR)


def test_outputs_match_the_terraform_root(default_run: ProgramRun) -> None:
    assert set(default_run.outputs) == output_names(PATTERN_DIR / "terraform")
    outputs = default_run.outputs
    assert outputs["function_names"] == {
        "create-order": "txn-outbox-create-order",
        "relay": "txn-outbox-relay",
        "consumer": "txn-outbox-consumer",
    }
    assert outputs["table_names"] == {
        k: f"txn-outbox-{k}" for k in ("orders", "outbox", "idempotency", "ledger")
    }
    assert set(outputs["queue_urls"]) == {"events", "dlq", "relay_failures"}
    assert outputs["event_bus_name"] == "txn-outbox-orders"
    assert outputs["log_group_names"] == [
        "/aws/lambda/txn-outbox-consumer",
        "/aws/lambda/txn-outbox-create-order",
        "/aws/lambda/txn-outbox-relay",
        "/aws/apigateway/txn-outbox-api",
    ]


def test_every_log_group_has_the_configured_retention() -> None:
    run = run_program(PROGRAM_DIR, config={"logRetentionDays": "30"})
    groups = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == 4
    assert {g.inputs["retentionInDays"] for g in groups} == {30}


def test_tables_streams_ttl_and_deletion_protection(default_run: ProgramRun) -> None:
    tables = default_run.by_name("aws:dynamodb/table:Table")
    assert tables["outbox"].inputs["streamViewType"] == "NEW_IMAGE"
    assert tables["outbox"].inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert tables["idempotency"].inputs["ttl"] == {"attributeName": "expiration", "enabled": True}
    assert not any(t.inputs["deletionProtectionEnabled"] for t in tables.values())
    protected = run_program(PROGRAM_DIR, config={"deletionProtection": "true"})
    assert all(
        t.inputs["deletionProtectionEnabled"] for t in protected.of_type("aws:dynamodb/table:Table")
    )
    assert not any(r.protect or r.retain_on_delete for r in default_run.resources)


def test_relay_mapping_settings(default_run: ProgramRun) -> None:
    stream = default_run.by_name(ESM)["outbox-stream"].inputs
    assert stream["startingPosition"] == "TRIM_HORIZON"
    assert stream["bisectBatchOnFunctionError"] is True
    assert stream["maximumRetryAttempts"] == 5
    assert stream["maximumRecordAgeInSeconds"] == 3600
    assert stream["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert json.loads(stream["filterCriteria"]["filters"][0]["pattern"]) == {
        "eventName": ["INSERT"]
    }
    failures = stream["destinationConfig"]["onFailure"]["destinationArn"]
    assert failures.endswith("txn-outbox-relay-failures")
    queue = default_run.by_name(ESM)["events-queue"].inputs
    assert queue["functionResponseTypes"] == ["ReportBatchItemFailures"]
    events = default_run.by_name("aws:sqs/queue:Queue")["events"].inputs
    assert json.loads(events["redrivePolicy"])["maxReceiveCount"] == 5


def _statements(run: ProgramRun, function: str) -> dict[str, dict[str, Any]]:
    policy = [
        r
        for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == f"txn-outbox-{function}-role"
    ]
    return {s["Sid"]: s for s in json.loads(policy[0].inputs["policy"])["Statement"]}


def test_least_privilege(default_run: ProgramRun) -> None:
    table = ACCOUNT.format(service="dynamodb") + ":table/txn-outbox-"
    relay = _statements(default_run, "relay")
    assert relay["ReadOutboxStream"]["Resource"] == [f"{table}outbox/stream/*"]
    assert relay["MarkPublished"]["Resource"] == [f"{table}outbox"]
    assert relay["PublishEvents"]["Action"] == ["events:PutEvents"]
    assert relay["OnFailureDestination"]["Action"] == ["sqs:SendMessage"]
    create = _statements(default_run, "create-order")
    assert create["WriteOrder"] == {
        "Sid": "WriteOrder",
        "Effect": "Allow",
        "Action": ["dynamodb:PutItem"],
        "Resource": [f"{table}orders"],
    }
    consumer = _statements(default_run, "consumer")
    assert consumer["ApplyToLedger"]["Resource"] == [f"{table}ledger"]
    for statements in (relay, create, consumer):
        for statement in statements.values():
            assert "*" not in statement["Action"]


def test_invalid_prefix_is_rejected() -> None:
    with pytest.raises(ValueError, match="namePrefix"):
        run_program(PROGRAM_DIR, config={"namePrefix": "Not_Valid"})
