"""Each shim in catalog.localaws.shims closes its gap, proven through boto3 against the server."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from catalog.localaws import LocalAws

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"


@pytest.fixture(autouse=True)
def _clean(aws: LocalAws) -> None:
    aws.reset()


def _role(aws: LocalAws, name: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": []}
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _create_function(aws: LocalAws, name: str, **extra: Any) -> dict[str, Any]:
    return dict(
        aws.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=_role(aws, f"{name}-role"),
            Handler="app.handler",
            Code={"ZipFile": _zip()},
            **extra,
        )
    )


# --- Step Functions ----------------------------------------------------------------------------


def test_validate_state_machine_definition_accepts_a_valid_definition(aws: LocalAws) -> None:
    answer = aws.client("stepfunctions").validate_state_machine_definition(definition=DEFINITION)
    assert answer["result"] == "OK"
    assert answer["diagnostics"] == []


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ("{not json", "INVALID_JSON_DESCRIPTION"),
        ('["a list"]', "SCHEMA_VALIDATION_FAILED"),
        ('{"StartAt": "A"}', "SCHEMA_VALIDATION_FAILED"),
        (
            '{"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}}',
            "MISSING_TRANSITION_TARGET",
        ),
    ],
)
def test_validate_state_machine_definition_fails_with_a_diagnostic(
    aws: LocalAws, definition: str, code: str
) -> None:
    answer = aws.client("stepfunctions").validate_state_machine_definition(definition=definition)
    assert answer["result"] == "FAIL"
    assert [d["code"] for d in answer["diagnostics"]] == [code]
    assert answer["diagnostics"][0]["severity"] == "ERROR"
    assert answer["diagnostics"][0]["message"]


def test_list_state_machine_versions(aws: LocalAws) -> None:
    sfn = aws.client("stepfunctions")
    role = _role(aws, "sfn-role")
    plain = sfn.create_state_machine(name="plain", definition=DEFINITION, roleArn=role)
    assert (
        sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])[
            "stateMachineVersions"
        ]
        == []
    )

    published = sfn.create_state_machine(
        name="published", definition=DEFINITION, roleArn=role, publish=True
    )
    versions = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        published["stateMachineVersionArn"]
    ]


def test_list_state_machine_versions_of_an_unknown_machine_fails_like_aws(aws: LocalAws) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
    with pytest.raises(ClientError) as caught:
        aws.client("stepfunctions").list_state_machine_versions(stateMachineArn=arn)
    assert caught.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


# --- Lambda LoggingConfig / DeadLetterConfig ---------------------------------------------------


def _configurations(aws: LocalAws, name: str) -> list[dict[str, Any]]:
    lam = aws.client("lambda")
    listed = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    return [
        lam.get_function(FunctionName=name)["Configuration"],
        dict(lam.get_function_configuration(FunctionName=name)),
        *listed,
    ]


def test_logging_and_dead_letter_config_round_trip_on_create(aws: LocalAws) -> None:
    logging_config = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": "/custom/fn"}
    created = _create_function(
        aws,
        "with-config",
        LoggingConfig=logging_config,
        DeadLetterConfig={"TargetArn": DLQ_ARN},
    )
    expected_logging = {**logging_config, "SystemLogLevel": "INFO"}
    for config in [created, *_configurations(aws, "with-config")]:
        assert config["LoggingConfig"] == expected_logging
        assert config["DeadLetterConfig"] == {"TargetArn": DLQ_ARN}


def test_defaults_match_aws_when_nothing_is_configured(aws: LocalAws) -> None:
    _create_function(aws, "plain")
    for config in _configurations(aws, "plain"):
        assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/plain"}
        assert "DeadLetterConfig" not in config


def test_update_function_configuration_changes_and_removes(aws: LocalAws) -> None:
    _create_function(aws, "updated", DeadLetterConfig={"TargetArn": DLQ_ARN})
    lam = aws.client("lambda")

    answer = lam.update_function_configuration(
        FunctionName="updated",
        LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom/updated"},
        DeadLetterConfig={"TargetArn": ""},  # how clients remove the dead-letter queue
    )
    for config in [answer, *_configurations(aws, "updated")]:
        assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/custom/updated"}
        assert "DeadLetterConfig" not in config

    # Unrelated updates keep what was set.
    lam.update_function_configuration(FunctionName="updated", MemorySize=256)
    assert _configurations(aws, "updated")[0]["LoggingConfig"]["LogGroup"] == "/custom/updated"


def test_published_versions_keep_the_config(aws: LocalAws) -> None:
    _create_function(aws, "versioned", DeadLetterConfig={"TargetArn": DLQ_ARN})
    lam = aws.client("lambda")
    version = lam.publish_version(FunctionName="versioned")
    assert version["DeadLetterConfig"] == {"TargetArn": DLQ_ARN}
    config = lam.get_function_configuration(FunctionName="versioned", Qualifier=version["Version"])
    assert config["DeadLetterConfig"] == {"TargetArn": DLQ_ARN}


def test_invocations_write_to_the_configured_log_group(aws: LocalAws) -> None:
    _create_function(aws, "logs-to-custom", LoggingConfig={"LogGroup": "/custom/logs-to"})
    aws.client("lambda").invoke(FunctionName="logs-to-custom", Payload=b"{}")
    groups = aws.inventory()["logs:log_groups"]
    assert groups == ["/custom/logs-to"]


class _GroupCreatedMidCopy:
    """A log group entry whose copy creates another group: what a CreateLogGroup served by another
    server thread does while a copy walks the account's groups."""

    def __init__(self, logs: Any) -> None:
        self.logs = logs
        self.copies = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        self.copies += 1
        self.logs.create_log_group(f"/created/mid-copy-{self.copies}", {})
        return self


def test_published_create_and_list_answer_while_log_groups_are_created(aws: LocalAws) -> None:
    """CreateFunction with Publish and ListFunctions copy function objects; a copy that walked the
    account's logs failed when a group was created meanwhile, and moto answered 500 for a
    function it had created (the client's retry: ResourceConflictException)."""
    from moto.logs.models import logs_backends

    logs = logs_backends["123456789012"][aws.region]
    planted = _GroupCreatedMidCopy(logs)
    logs.groups["/planted/created-mid-copy"] = planted
    try:
        created = _create_function(aws, "published", Publish=True)
        listed = aws.client("lambda").list_functions()["Functions"]
    finally:
        logs.groups.pop("/planted/created-mid-copy")
    assert created["Version"] == "1"
    assert created["FunctionArn"].endswith(":function:published")
    assert [f["FunctionName"] for f in listed] == ["published"]
    assert planted.copies == 0  # no copy of a function walks the logs


def test_aws_managed_policy_attaches_on_demand(aws: LocalAws) -> None:
    _role(aws, "durable-role")
    iam = aws.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
    iam.attach_role_policy(RoleName="durable-role", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="durable-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.attach_role_policy(
            RoleName="durable-role", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy"
        )


def test_dynamodb_transaction_rollback_does_not_undo_concurrent_writes(aws: LocalAws) -> None:
    """A failed transaction must not restore a table snapshot over writes made meanwhile."""
    import threading

    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="stock",
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="stock", Item={"sku": {"S": "a"}, "n": {"N": "0"}})
    dynamodb.put_item(TableName="stock", Item={"sku": {"S": "b"}, "n": {"N": "0"}})

    def increment() -> None:
        for _ in range(40):
            dynamodb.update_item(
                TableName="stock",
                Key={"sku": {"S": "a"}},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    def failing_transactions() -> None:
        for _ in range(40):
            with contextlib.suppress(ClientError):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "stock",
                                "Key": {"sku": {"S": "a"}},
                                "UpdateExpression": "SET n = n + :z",
                                "ExpressionAttributeValues": {":z": {"N": "0"}},
                            }
                        },
                        {
                            "ConditionCheck": {
                                "TableName": "stock",
                                "Key": {"sku": {"S": "b"}},
                                "ConditionExpression": "n > :big",
                                "ExpressionAttributeValues": {":big": {"N": "9"}},
                            }
                        },
                    ]
                )

    threads = [threading.Thread(target=increment), threading.Thread(target=failing_transactions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item = dynamodb.get_item(TableName="stock", Key={"sku": {"S": "a"}})["Item"]
    assert item["n"]["N"] == "40"


def _stream_records(aws: LocalAws, stream_arn: str) -> list[dict[str, Any]]:
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_mappings_never_fire_inline_and_stream_records_stay_readable(
    aws: LocalAws, make_stream_table: Callable[[str], str]
) -> None:
    """moto would invoke inside the write (before a transaction commits) and inside SendMessage;
    with the shim only the embedded AWS's pollers deliver (aws.settle())."""
    stream_arn = make_stream_table("outbox")
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    _create_function(aws, "relay")
    lambda_ = aws.client("lambda")
    for source in (stream_arn, queue_arn):
        lambda_.create_event_source_mapping(
            EventSourceArn=source, FunctionName="relay", StartingPosition="TRIM_HORIZON"
        )
    for key in ("a", "b"):
        aws.client("dynamodb").put_item(TableName="outbox", Item={"pk": {"S": key}})
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _stream_records(aws, stream_arn)] == [
        "a",
        "b",
    ]
    assert aws.invocations == []
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"
    assert len(lambda_.list_event_source_mappings()["EventSourceMappings"]) == 2


def test_eventbridge_envelope_carries_the_account(aws: LocalAws) -> None:
    events, sqs = aws.client("events"), aws.client("sqs")
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["test"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
    events.put_events(Entries=[{"Source": "test", "DetailType": "t", "Detail": "{}"}])
    message = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert message["account"] == "123456789012"


def test_sqs_redrive_policy_comes_back_compact(aws: LocalAws) -> None:
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}, separators=(",", ":")
    )
    url = sqs.create_queue(QueueName="main", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    returned = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert returned["Attributes"]["RedrivePolicy"] == policy
