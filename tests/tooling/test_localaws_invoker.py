"""The in-process invoker runs deployed zips; faults, Step Functions, retries, reset, inventory."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from typing import Any

import pytest

from catalog.localaws import LocalAws

# A package shaped like a catalog pattern: relative imports only.
SHOP_INIT = ""
SHOP_GREETING = "PREFIX = {prefix!r}\n\ndef greet(name):\n    return PREFIX + name\n"
SHOP_HELLO = """\
import os

from ..greeting import greet


def handler(event, context):
    if event.get("fail"):
        raise {error}(event["fail"])
    return {{
        "message": greet(event.get("name", "nobody")),
        "stage": os.environ.get("STAGE"),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }}


class PaymentDeclinedError(Exception):
    pass
"""
ENV_PROBE = """\
import os
import time


def handler(event, context):
    first = os.environ.get("COLOUR")
    time.sleep(event.get("sleep", 0))
    return {"first": first, "second": os.getenv("COLOUR"), "keys": sorted(
        k for k in os.environ if k in ("COLOUR", "ONLY_A", "ONLY_B"))}
"""
WRITE_ITEM = """\
import os

import boto3


def handler(event, context):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    table.put_item(Item={"pk": event["id"]})
    return {"written": event["id"]}
"""


def build_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    return buffer.getvalue()


def shop_zip(prefix: str = "hello ", error: str = "PaymentDeclinedError") -> bytes:
    return build_zip(
        {
            "shop/__init__.py": SHOP_INIT,
            "shop/greeting.py": SHOP_GREETING.format(prefix=prefix),
            "shop/functions/__init__.py": "",
            "shop/functions/hello.py": SHOP_HELLO.format(error=error),
        }
    )


def single_module_zip(source: str) -> bytes:
    return build_zip(
        {
            "probe/__init__.py": "",
            "probe/functions/__init__.py": "",
            "probe/functions/fn.py": source,
        }
    )


@pytest.fixture(autouse=True)
def _clean(aws: LocalAws) -> None:
    aws.reset()
    aws.record_retry_sleeps = True


def role(aws: LocalAws, name: str = "fn-role") -> str:
    iam = aws.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": []}
        created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        return str(created["Role"]["Arn"])


def deploy(
    aws: LocalAws,
    name: str,
    code: bytes,
    handler: str = "shop.functions.hello.handler",
    env: dict[str, str] | None = None,
) -> str:
    created = aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role(aws),
        Handler=handler,
        Code={"ZipFile": code},
        Timeout=30,
        Environment={"Variables": env or {}},
    )
    return str(created["FunctionArn"])


def invoke(aws: LocalAws, name: str, event: dict[str, Any]) -> tuple[Any, str | None]:
    answer = aws.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return json.loads(answer["Payload"].read()), answer.get("FunctionError")


# --- the invoker -------------------------------------------------------------------------------


def test_runs_the_deployed_code_with_context_and_environment(aws: LocalAws) -> None:
    arn = deploy(aws, "shop-hello", shop_zip(), env={"STAGE": "test"})
    result, error = invoke(aws, "shop-hello", {"name": "Ada"})

    assert error is None
    assert result["message"] == "hello Ada"  # the relative import resolved inside the zip
    assert result["stage"] == "test"
    assert result["function_name"] == "shop-hello"
    assert result["function_version"] == "$LATEST"
    assert result["invoked_function_arn"] == arn
    assert result["memory_limit_in_mb"] == 128
    assert result["log_group_name"] == "/aws/lambda/shop-hello"
    assert result["log_stream_name"]
    assert 0 < result["remaining_ms"] <= 30_000
    assert "STAGE" not in os.environ  # applied for the call only

    [call] = aws.invocations
    assert (call.function_name, call.event, call.ok, call.error_type) == (
        "shop-hello",
        {"name": "Ada"},
        True,
        None,
    )
    assert call.request_id == result["aws_request_id"]
    assert call.started <= call.ended and call.started_at <= call.ended_at


def test_handler_exception_becomes_the_lambda_error_payload(aws: LocalAws) -> None:
    deploy(aws, "shop-hello", shop_zip())
    payload, error = invoke(aws, "shop-hello", {"fail": "card declined"})

    assert error  # the errored flag: Step Functions and boto3 see FunctionError
    assert payload["errorType"] == "PaymentDeclinedError"
    assert payload["errorMessage"] == "card declined"
    assert any("hello.py" in frame for frame in payload["stackTrace"])
    assert aws.invocations[-1].error_type == "PaymentDeclinedError"
    assert not aws.invocations[-1].ok


def test_import_and_marshal_errors_use_the_runtime_error_types(aws: LocalAws) -> None:
    broken = single_module_zip("import not_a_module_anywhere\n\ndef handler(e, c):\n    return 1\n")
    deploy(aws, "broken", broken, handler="probe.functions.fn.handler")
    payload, error = invoke(aws, "broken", {})
    assert error and payload["errorType"] == "Runtime.ImportModuleError"

    unserialisable = single_module_zip("def handler(e, c):\n    return object()\n")
    deploy(aws, "unserialisable", unserialisable, handler="probe.functions.fn.handler")
    payload, error = invoke(aws, "unserialisable", {})
    assert error and payload["errorType"] == "Runtime.MarshalError"


def test_same_package_name_different_code_never_mixes(aws: LocalAws) -> None:
    deploy(aws, "shop-a-hello", shop_zip(prefix="A:"))
    deploy(aws, "shop-b-hello", shop_zip(prefix="B:"))
    for _ in range(2):
        assert invoke(aws, "shop-a-hello", {"name": "x"})[0]["message"] == "A:x"
        assert invoke(aws, "shop-b-hello", {"name": "x"})[0]["message"] == "B:x"

    # New code deployed under the same name runs at once.
    aws.client("lambda").update_function_code(FunctionName="shop-a-hello", ZipFile=shop_zip("C:"))
    assert invoke(aws, "shop-a-hello", {"name": "x"})[0]["message"] == "C:x"


def test_identical_zips_with_different_config_get_their_own_module_state(aws: LocalAws) -> None:
    # Two deployments of one pattern ship byte-identical zips; module-level code (run at import,
    # with the function's environment) must not be shared between them.
    code = single_module_zip(
        "import os\n\nSTAGE = os.environ['STAGE']\nROOT = os.environ['LAMBDA_TASK_ROOT']\n\n"
        "def handler(event, context):\n    return [STAGE, os.path.isdir(ROOT)]\n"
    )
    handler = "probe.functions.fn.handler"
    deploy(aws, "blue-fn", code, handler=handler, env={"STAGE": "blue"})
    deploy(aws, "green-fn", code, handler=handler, env={"STAGE": "green"})
    assert invoke(aws, "blue-fn", {})[0] == ["blue", True]
    assert invoke(aws, "green-fn", {})[0] == ["green", True]

    # A configuration change starts a fresh instance, as new Lambda containers would.
    aws.client("lambda").update_function_configuration(
        FunctionName="blue-fn", Environment={"Variables": {"STAGE": "teal"}}
    )
    assert invoke(aws, "blue-fn", {})[0] == ["teal", True]


def test_concurrent_invocations_see_only_their_own_environment(aws: LocalAws) -> None:
    code = single_module_zip(ENV_PROBE)
    handler = "probe.functions.fn.handler"
    deploy(aws, "env-a", code, handler=handler, env={"COLOUR": "red", "ONLY_A": "1"})
    deploy(aws, "env-b", code, handler=handler, env={"COLOUR": "blue", "ONLY_B": "1"})
    results: dict[str, Any] = {}
    seen_outside: list[bool] = []

    def call(name: str) -> None:
        results[name] = invoke(aws, name, {"sleep": 0.5})[0]

    threads = [threading.Thread(target=call, args=(n,)) for n in ("env-a", "env-b")]
    for thread in threads:
        thread.start()
    time.sleep(0.25)
    seen_outside.append("COLOUR" in os.environ)
    for thread in threads:
        thread.join()

    a, b = (next(c for c in aws.invocations if c.function_name == n) for n in ("env-a", "env-b"))
    assert a.started < b.ended and b.started < a.ended, "the two invocations did not overlap"
    assert results["env-a"] == {"first": "red", "second": "red", "keys": ["COLOUR", "ONLY_A"]}
    assert results["env-b"] == {"first": "blue", "second": "blue", "keys": ["COLOUR", "ONLY_B"]}
    assert seen_outside == [False]


# --- fault injection ---------------------------------------------------------------------------


def _table(aws: LocalAws, name: str = "items") -> Any:
    aws.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _item_exists(aws: LocalAws, table: str, key: str) -> bool:
    found = aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}})
    return "Item" in found


def test_fault_before_skips_the_handler(aws: LocalAws) -> None:
    table = _table(aws)
    deploy(
        aws,
        "orders-write-item",
        single_module_zip(WRITE_ITEM),
        "probe.functions.fn.handler",
        env={"TABLE": table},
    )
    aws.faults.add("write-item", "TransientError", when="before", times=1, message="try again")

    payload, error = invoke(aws, "orders-write-item", {"id": "1"})
    assert error and payload["errorType"] == "TransientError"
    assert payload["errorMessage"] == "try again"
    assert not _item_exists(aws, table, "1")
    assert aws.invocations[-1].injected == "before" and not aws.invocations[-1].handler_ran

    assert invoke(aws, "orders-write-item", {"id": "1"}) == ({"written": "1"}, None)  # used up
    assert aws.faults.remaining() == []


def test_fault_after_runs_the_handler_and_loses_the_response(aws: LocalAws) -> None:
    table = _table(aws)
    deploy(
        aws,
        "orders-write-item",
        single_module_zip(WRITE_ITEM),
        "probe.functions.fn.handler",
        env={"TABLE": table},
    )
    aws.faults.add("write-item", "Lambda.ServiceException", when="after")

    payload, error = invoke(aws, "orders-write-item", {"id": "2"})
    assert error and payload["errorType"] == "Lambda.ServiceException"
    assert _item_exists(aws, table, "2")  # the side effect happened
    assert aws.invocations[-1].injected == "after" and aws.invocations[-1].handler_ran


def test_fault_matching_is_exact_or_dash_suffix(aws: LocalAws) -> None:
    deploy(aws, "shop-hello", shop_zip())
    deploy(aws, "shop-othello", shop_zip())
    aws.faults.add("hello", "Boom", times=5)
    assert invoke(aws, "shop-othello", {})[1] is None  # "othello" is not "-hello"
    assert invoke(aws, "shop-hello", {})[0]["errorType"] == "Boom"
    with pytest.raises(ValueError):
        aws.faults.add("hello", "Boom", when="during")  # type: ignore[arg-type]


def test_fault_policy_decides_per_call(aws: LocalAws) -> None:
    deploy(aws, "shop-hello", shop_zip())
    calls: list[tuple[str, str]] = []

    def policy(function: str, event: dict[str, Any], phase: str) -> str | None:
        calls.append((function, phase))
        return "Chaos" if event.get("name") == "victim" and phase == "after" else None

    aws.faults.set_policy(policy)
    assert invoke(aws, "shop-hello", {"name": "victim"})[0]["errorType"] == "Chaos"
    assert invoke(aws, "shop-hello", {"name": "bystander"})[1] is None
    assert calls.count(("shop-hello", "before")) == 2
    aws.faults.clear()
    assert invoke(aws, "shop-hello", {"name": "victim"})[1] is None


# --- Step Functions ----------------------------------------------------------------------------


def run_execution(aws: LocalAws, definition: dict[str, Any], payload: Any) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"sm-{len(aws.invocations)}-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn=role(aws, "sfn-role"),
    )
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="run-1", input=json.dumps(payload)
    )
    assert aws.executions.wait([execution["executionArn"]], timeout=20) == [], "still running"
    return dict(sfn.describe_execution(executionArn=execution["executionArn"]))


def test_step_functions_task_runs_the_real_handler(aws: LocalAws) -> None:
    arn = deploy(aws, "shop-hello", shop_zip(prefix="sfn "))
    definition = {
        "StartAt": "Hello",
        "States": {"Hello": {"Type": "Task", "Resource": arn, "End": True}},
    }
    described = run_execution(aws, definition, {"name": "Grace"})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["message"] == "sfn Grace"
    assert [c.function_name for c in aws.invocations] == ["shop-hello"]


def test_waiting_for_executions_wakes_when_they_end_not_before(aws: LocalAws) -> None:
    """`executions.wait` returns what is still running at its timeout, and wakes as soon as an
    execution ends, however it ends (here: stopped during a Wait state)."""
    sfn = aws.client("stepfunctions")
    definition = {
        "StartAt": "Pause",
        "States": {"Pause": {"Type": "Wait", "Seconds": 600, "End": True}},
    }
    machine = sfn.create_state_machine(
        name=f"sm-wait-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn=role(aws, "sfn-role"),
    )
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="run-1")[
        "executionArn"
    ]
    assert aws.executions.wait([arn], timeout=0.3) == [arn]
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"

    sfn.stop_execution(executionArn=arn)
    started = time.monotonic()
    assert aws.executions.wait([arn], timeout=20) == []
    assert time.monotonic() - started < 10  # woken by the end, not by the timeout
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_retry_intervals_are_recorded_not_slept(aws: LocalAws) -> None:
    arn = deploy(aws, "shop-hello", shop_zip())
    retry = {
        "ErrorEquals": ["FlakyError"],
        "IntervalSeconds": 30,
        "BackoffRate": 3,
        "MaxAttempts": 3,
    }
    definition = {
        "StartAt": "Hello",
        "States": {"Hello": {"Type": "Task", "Resource": arn, "Retry": [retry], "End": True}},
    }
    aws.faults.add("hello", "FlakyError", times=2)
    started = time.monotonic()
    described = run_execution(aws, definition, {"name": "Retry"})

    assert described["status"] == "SUCCEEDED"
    assert aws.retry_sleeps == [30.0, 90.0]
    assert time.monotonic() - started < 30  # two minutes of intervals were not slept
    assert [c.ok for c in aws.invocations] == [False, False, True]


def test_exhausted_retries_fail_with_the_error_name(aws: LocalAws) -> None:
    arn = deploy(aws, "shop-hello", shop_zip())
    retry = {"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": 1}
    definition = {
        "StartAt": "Hello",
        "States": {"Hello": {"Type": "Task", "Resource": arn, "Retry": [retry], "End": True}},
    }
    aws.faults.add("hello", "FlakyError", times=5)
    described = run_execution(aws, definition, {})
    assert described["status"] == "FAILED"
    history = aws.client("stepfunctions").get_execution_history(
        executionArn=described["executionArn"]
    )["events"]
    failed = [e for e in history if e["type"] == "ExecutionFailed"]
    assert failed[0]["executionFailedEventDetails"]["error"] == "FlakyError"
    assert aws.retry_sleeps == [1.0]


# --- reset and inventory -----------------------------------------------------------------------


def test_reset_clears_state_but_keeps_the_execution_config(aws: LocalAws) -> None:
    deploy(aws, "shop-hello", shop_zip())
    invoke(aws, "shop-hello", {})
    aws.faults.add("hello", "Boom")
    aws.retry_sleeps.append(1.0)

    aws.reset()
    assert aws.invocations == [] and aws.retry_sleeps == [] and aws.faults.remaining() == []
    assert aws.client("lambda").list_functions()["Functions"] == []
    pass_only = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 7, "End": True}}}
    described = run_execution(aws, pass_only, {})
    assert described["status"] == "SUCCEEDED" and described["output"] == "7"


def test_inventory_lists_everything_then_empties(aws: LocalAws) -> None:
    assert all(ids == [] for ids in aws.inventory().values())

    arn = deploy(aws, "inv-fn", shop_zip())
    invoke(aws, "inv-fn", {})  # Lambda creates its log group on first invoke
    queue = aws.client("sqs").create_queue(QueueName="inv-queue")["QueueUrl"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lam = aws.client("lambda")
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=arn)
    layer = lam.publish_layer_version(LayerName="inv-layer", Content={"ZipFile": shop_zip()})
    policy = aws.client("iam").create_policy(
        PolicyName="inv-policy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}
                ],
            }
        ),
    )
    _table(aws, "inv-table")
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="inv-sm",
        roleArn=role(aws, "sfn-role"),
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )
    events = aws.client("events")
    events.create_event_bus(Name="inv-bus")
    events.put_rule(Name="inv-rule", EventBusName="inv-bus", EventPattern='{"source": ["x"]}')
    topic = aws.client("sns").create_topic(Name="inv-topic")["TopicArn"]
    api = aws.client("apigatewayv2").create_api(Name="inv-api", ProtocolType="HTTP")
    aws.client("s3").create_bucket(Bucket="inv-bucket")
    key = aws.client("kms").create_key()["KeyMetadata"]["KeyId"]

    found = aws.inventory()
    assert found["lambda:functions"] == ["inv-fn"]
    assert len(found["lambda:event_source_mappings"]) == 1
    assert found["lambda:layers"] == ["inv-layer"]
    assert found["iam:roles"] == ["fn-role", "sfn-role"]
    assert found["iam:policies"] == [policy["Policy"]["Arn"]]
    assert found["logs:log_groups"] == ["/aws/lambda/inv-fn"]
    assert found["dynamodb:tables"] == ["inv-table"]
    assert found["stepfunctions:state_machines"] == [machine["stateMachineArn"]]
    assert found["sqs:queues"] == [queue]
    assert found["sns:topics"] == [topic]
    assert found["events:buses"] == ["inv-bus"]
    assert found["events:rules"] == ["inv-bus/inv-rule"]
    assert found["apigatewayv2:apis"] == [f"{api['ApiId']} inv-api"]
    assert found["s3:buckets"] == ["inv-bucket"]
    assert found["kms:keys"] == [key]

    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    lam.delete_function(FunctionName="inv-fn")
    lam.delete_layer_version(LayerName="inv-layer", VersionNumber=layer["Version"])
    iam = aws.client("iam")
    iam.delete_policy(PolicyArn=policy["Policy"]["Arn"])
    for name in ("fn-role", "sfn-role"):
        iam.delete_role(RoleName=name)
    aws.client("logs").delete_log_group(logGroupName="/aws/lambda/inv-fn")
    aws.client("dynamodb").delete_table(TableName="inv-table")
    sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    aws.client("sqs").delete_queue(QueueUrl=queue)
    aws.client("sns").delete_topic(TopicArn=topic)
    events.delete_rule(Name="inv-rule", EventBusName="inv-bus")
    events.delete_event_bus(Name="inv-bus")
    aws.client("apigatewayv2").delete_api(ApiId=api["ApiId"])
    aws.client("s3").delete_bucket(Bucket="inv-bucket")
    aws.client("kms").schedule_key_deletion(KeyId=key, PendingWindowInDays=7)

    assert {kind: ids for kind, ids in aws.inventory().items() if ids} == {}


def test_handler_output_goes_to_the_log_group_not_the_terminal(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "def handler(event, context):\n    print('hello from the handler')\n    return 1\n"
    deploy(aws, "printer", single_module_zip(source), handler="probe.functions.fn.handler")
    invoke(aws, "printer", {})
    assert "hello from the handler" not in capsys.readouterr().out
    logs = aws.client("logs")
    group = "/aws/lambda/printer"
    messages = [
        event["message"]
        for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    assert "hello from the handler" in messages
