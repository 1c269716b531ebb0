"""The queue and invoke drivers: messages in (or one invocation), the embedded AWS settles, the
report out. A stack made here: a queue with a DLQ (maxReceiveCount 2) feeding a worker that
reports partial batch failures and records what it applied in a table, and a redrive function
that moves DLQ messages back (an operator action in `afterwards`)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.drivers import get_driver
from catalog.drivers.base import DriverContext, DriverError
from catalog.localaws import LocalAws
from catalog.patterns import Pattern
from catalog.scenarios import Fault, Scenario

WORKER = """\
import json
import os

import boto3


def handler(event, context):
    table = boto3.client("dynamodb")
    failed = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("poison") and not os.path.exists(os.environ["FIXED_FLAG"]):
            failed.append({"itemIdentifier": record["messageId"]})
            continue
        table.put_item(
            TableName=os.environ["TABLE"],
            Item={"job_id": {"S": body["job_id"]}, "message_id": {"S": record["messageId"]}},
        )
    return {"batchItemFailures": failed}
"""
REDRIVE = """\
import os

import boto3


def handler(event, context):
    open(os.environ["FIXED_FLAG"], "w").close()  # the cause is fixed
    sqs = boto3.client("sqs")
    moved = 0
    while True:
        messages = sqs.receive_message(QueueUrl=os.environ["DLQ"], MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return {"moved": moved}
        for message in messages:
            sqs.send_message(QueueUrl=os.environ["WORK"], MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=os.environ["DLQ"], ReceiptHandle=message["ReceiptHandle"])
            moved += 1
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture
def stack(aws: LocalAws, tmp_path: Path) -> Iterator[DriverContext]:
    aws.reset()
    suffix = uuid.uuid4().hex[:6]
    sqs, lam, dynamodb = aws.client("sqs"), aws.client("lambda"), aws.client("dynamodb")
    role = aws.client("iam").create_role(RoleName=f"q-{suffix}", AssumeRolePolicyDocument="{}")
    dlq = sqs.create_queue(QueueName=f"q-{suffix}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    work = sqs.create_queue(QueueName=f"q-{suffix}-work", Attributes={"RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    work_arn = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    table = f"q-{suffix}-applied"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    env = {"TABLE": table, "DLQ": dlq, "WORK": work, "FIXED_FLAG": str(tmp_path / "fixed")}
    names = {}
    for short, code in (("worker", WORKER), ("redrive", REDRIVE)):
        names[short] = f"q-{suffix}-{short}"
        lam.create_function(
            FunctionName=names[short],
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": _zip(code)},
            Environment={"Variables": env},
        )
    lam.create_event_source_mapping(
        EventSourceArn=work_arn,
        FunctionName=names["worker"],
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    root = tmp_path / "queue-jobs"
    root.mkdir()
    metadata = {
        "catalog": {
            "driver": {"kind": "queue", "queue": "work", "function": "redrive"},
            "report": {
                "steps": [
                    {"name": "sent", "observe": "requests"},
                    {"name": "applied", "observe": "function", "function": "worker"},
                ]
            },
        }
    }
    (root / "example-pattern.json").write_text(json.dumps(metadata))
    outputs = {
        "function_names": names,
        "queue_urls": {"work": work, "dlq": dlq},
        "table_names": {"applied": table},
    }
    yield DriverContext(pattern=Pattern(root), outputs=outputs, aws=aws)
    aws.faults.clear()


def _scenario(spec: Any, faults: tuple[Fault, ...] = ()) -> Scenario:
    return Scenario(name="t", description="", input=spec, faults=faults)


def _messages(*jobs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"body": job} for job in jobs]


def test_a_poison_message_is_parked_and_the_rest_applied_once(stack: DriverContext) -> None:
    jobs = [{"job_id": f"job-{n:04d}", "poison": n == 3} for n in range(10)]
    result = get_driver("queue")(stack, _scenario({"messages": _messages(*jobs)}))
    assert (result.status, result.error) == ("FAILED", "MovedToDeadLetterQueue")
    assert [(s.name, s.kind, s.attempts) for s in result.steps] == [
        ("sent", "request", 10),
        ("applied", "function", 2),  # the batch, then the poison message alone (maxReceiveCount 2)
    ]
    assert result.details["failure_queues"]["dlq"]["new_messages"] == 1
    assert result.details["failure_queues"]["dlq"]["messages"] == [jobs[3]]
    applied = sorted(r["job_id"] for r in result.tables["applied"])
    assert applied == [j["job_id"] for j in jobs if not j["poison"]]


def test_redrive_after_the_fix_applies_the_parked_message(stack: DriverContext) -> None:
    spec = {
        "messages": _messages({"job_id": "job-0100", "poison": True}),
        "afterwards": [{"invoke": "redrive"}],
    }
    result = get_driver("queue")(stack, _scenario(spec))
    assert result.status == "SUCCEEDED", result.details
    assert result.details["invoked"][0]["result"] == {"moved": 1}
    assert [r["job_id"] for r in result.tables["applied"]] == ["job-0100"]
    assert result.details["queue_depths"] == {"work": 0, "dlq": 0}


def test_transient_faults_recover_and_invoke_errors_fail(stack: DriverContext) -> None:
    faults = (Fault("worker", "Throttled", "before", 1),)
    recovered = get_driver("queue")(
        stack, _scenario({"messages": _messages({"job_id": "job-0200"})}, faults)
    )
    assert recovered.status == "SUCCEEDED"
    assert recovered.details["pollers"]["worker"]["failed_invocations"] == 1
    failing = get_driver("invoke")(stack, _scenario({}, (Fault("redrive", "Broken", "before", 1),)))
    assert (failing.status, failing.error) == ("FAILED", "Broken")
    with pytest.raises(DriverError, match="not a queue_urls key"):
        get_driver("queue")(stack, _scenario({"messages": [], "queue": "nope"}))
