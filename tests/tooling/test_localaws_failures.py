"""The embedded AWS records the requests it failed itself (an exception inside moto, answered 500),
and a failed terraform command names them beside the provider's error. An SDK's retry of a request
answered 2xx (its answer was lost) gets that answer again."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from catalog.deploy import deploy, destroy
from catalog.engines.terraform import TerraformError
from catalog.localaws import LocalAws, failures, lost_answers
from catalog.localaws.failures import ServerFailures
from catalog.patterns import load
from catalog.testing import require_terraform

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "patterns" / "tiny-echo"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
SIGNED_FOR_LOGS = "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/logs/aws4_request"


def fail_log_group_creation(monkeypatch: pytest.MonkeyPatch, *, after_storing: bool) -> None:
    from moto.logs.models import LogsBackend

    original = LogsBackend.create_log_group
    calls: list[int] = []

    def create_log_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if after_storing and len(calls) > 1:
            return original(self, *args, **kwargs)  # the client's retry
        if after_storing:
            original(self, *args, **kwargs)  # stored, then the answer is lost: the 409 class
        raise RuntimeError("lost answer")

    monkeypatch.setattr(LogsBackend, "create_log_group", create_log_group)


def test_an_exception_inside_a_service_is_recorded_with_its_request(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_log_group_creation(monkeypatch, after_storing=False)
    mark = aws.failures.count
    with pytest.raises(ClientError) as raised:
        logs = boto3.client("logs", endpoint_url=aws.endpoint_url, config=NO_RETRIES)
        logs.create_log_group(logGroupName="/failures/in-app")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    (failure,) = aws.failures.since(mark)
    assert failure.request == "logs Logs_20140328.CreateLogGroup"
    assert failure.error.startswith("RuntimeError: lost answer (")
    assert "test_localaws_failures.py:" in failure.error  # the innermost frame: where it raised
    assert "logs Logs_20140328.CreateLogGroup: RuntimeError: lost answer" in aws.failures.summary(
        mark
    )
    assert aws.failures.summary(aws.failures.count) == (
        " [the embedded AWS failed no request meanwhile]"
    )


def test_a_request_over_http_is_recorded_too(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_log_group_creation(monkeypatch, after_storing=False)
    mark = aws.failures.count
    request = urllib.request.Request(
        aws.endpoint_url,
        data=json.dumps({"logGroupName": "/failures/http"}).encode(),
        headers={
            "Authorization": SIGNED_FOR_LOGS,
            "X-Amz-Target": "Logs_20140328.CreateLogGroup",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code == 500
    assert [f.request for f in aws.failures.since(mark)] == ["logs Logs_20140328.CreateLogGroup"]


def test_a_query_protocol_request_is_named_by_its_action(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.iam.models import IAMBackend

    def create_role(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("lost answer")

    monkeypatch.setattr(IAMBackend, "create_role", create_role)
    mark = aws.failures.count
    request = urllib.request.Request(
        aws.endpoint_url,
        data=b"Action=CreateRole&RoleName=named&AssumeRolePolicyDocument=%7B%7D&Version=2010-05-08",
        headers={
            "Authorization": SIGNED_FOR_LOGS.replace("/logs/", "/iam/"),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code == 500  # the body read for the name still reached the application
    assert [f.request for f in aws.failures.since(mark)] == ["iam CreateRole"]


def test_an_exception_escaping_the_dispatcher_is_recorded_and_raised() -> None:
    def dispatcher(environ: dict[str, Any], start_response: Any) -> Any:
        raise LookupError("no application")

    failures = ServerFailures()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": SIGNED_FOR_LOGS.replace("/logs/", "/sqs/"),
        "HTTP_X_AMZ_TARGET": "AmazonSQS.ListQueues",
    }
    with pytest.raises(LookupError):  # werkzeug's server (or the transport) answers the 500
        failures.watching(dispatcher)(environ, lambda *_: None)
    (failure,) = failures.since(0)
    assert failure.request == "sqs AmazonSQS.ListQueues"
    assert failure.error.startswith("LookupError: no application (")


def test_the_transport_and_the_server_serve_the_watched_dispatcher(aws: LocalAws) -> None:
    assert aws.transport is not None
    assert aws.transport.app is aws._server._server.app
    assert aws.transport.app.__qualname__ == "ServerFailures.watching.<locals>.watched"


def test_a_slow_answer_is_recorded_with_its_status(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failures, "SLOW_ANSWER_S", 0.0)  # every answer is slow now
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="failures-slow")["QueueUrl"]
    mark = aws.failures.count
    sqs.receive_message(QueueUrl=url)  # may long-poll: its time is the caller's, never recorded
    sqs.list_queues()
    (slow,) = aws.failures.since(mark)
    assert slow.request == "sqs AmazonSQS.ListQueues"
    assert re.fullmatch(r"answered 200 after \d+\.\d s", slow.error)


def test_a_connection_the_client_dropped_before_its_answer_is_recorded(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.logs.models import LogsBackend

    original = LogsBackend.create_log_group
    answering = threading.Event()

    def slow_create(self: Any, *args: Any, **kwargs: Any) -> Any:
        answering.set()
        time.sleep(0.5)  # the client is gone by the time the answer is written
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LogsBackend, "create_log_group", slow_create)
    mark = aws.failures.count
    body = json.dumps({"logGroupName": "/failures/dropped"}).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{aws.port}\r\nAuthorization: {SIGNED_FOR_LOGS}\r\n"
        "X-Amz-Target: Logs_20140328.CreateLogGroup\r\n"
        f"Content-Type: application/x-amz-json-1.1\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    client = socket.create_connection(("127.0.0.1", aws.port))
    client.sendall(head.encode() + body)
    assert answering.wait(10)
    # Linger 0: close() resets the connection, as a client that gave up on the answer does.
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    deadline = time.monotonic() + 10
    while not aws.failures.since(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    (dropped,) = aws.failures.since(mark)
    assert dropped.request == "logs Logs_20140328.CreateLogGroup"
    assert dropped.error.startswith("the client dropped the connection: ")


def test_the_failures_kept_are_the_last_ones(aws: LocalAws) -> None:
    mark = aws.failures.count
    for index in range(60):
        aws.failures.record(f"svc Op{index}", ValueError(str(index)))
    kept = aws.failures.since(mark)
    assert len(kept) == 50
    assert kept[-1].request == "svc Op59"
    assert "(+47 more)" in aws.failures.summary(mark)


def test_a_failed_apply_names_the_request_the_embedded_aws_failed(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_terraform()
    # The log group is stored, its answer lost; the provider's retry then finds it already there.
    fail_log_group_creation(monkeypatch, after_storing=True)
    with pytest.raises(TerraformError) as raised:
        deploy(load(str(FIXTURE)), aws, name_prefix="failures-echo")
    message = str(raised.value)
    assert "ResourceAlreadyExistsException" in message
    assert "the embedded AWS failed 1 request(s) meanwhile" in message
    assert "logs Logs_20140328.CreateLogGroup: RuntimeError: lost answer" in message


def sdk_attempt(
    aws: LocalAws, group: str, invocation: str, attempt: int
) -> tuple[int, dict[str, str], bytes]:
    """CreateLogGroup over HTTP as an AWS SDK sends one attempt of an operation."""
    request = urllib.request.Request(
        aws.endpoint_url,
        data=json.dumps({"logGroupName": group}).encode(),
        headers={
            "Authorization": SIGNED_FOR_LOGS,
            "X-Amz-Target": "Logs_20140328.CreateLogGroup",
            "Content-Type": "application/x-amz-json-1.1",
            "amz-sdk-invocation-id": invocation,
            "amz-sdk-request": f"attempt={attempt}; max=3",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_retry_of_a_create_answered_2xx_gets_the_same_answer(aws: LocalAws) -> None:
    mark = aws.failures.count
    first = sdk_attempt(aws, "/lost/created", "op-1", 1)
    again = sdk_attempt(aws, "/lost/created", "op-1", 2)
    assert first[0] == again[0] == 200
    assert again[1]["x-amzn-requestid"] == first[1]["x-amzn-requestid"]  # served, not run again
    (lost,) = aws.failures.since(mark)
    assert lost.request == "logs Logs_20140328.CreateLogGroup"
    assert lost.error == "its 200 answer was lost: attempt 2 got it again"
    # Another operation creating the same group is answered by the service, as on AWS.
    status, _, body = sdk_attempt(aws, "/lost/created", "op-2", 1)
    assert status == 400 and b"ResourceAlreadyExistsException" in body


def test_a_retry_after_an_error_answer_runs_again(aws: LocalAws) -> None:
    sdk_attempt(aws, "/lost/exists", "op-3", 1)
    mark = aws.failures.count
    first = sdk_attempt(aws, "/lost/exists", "op-4", 1)
    again = sdk_attempt(aws, "/lost/exists", "op-4", 2)  # a client may retry an error: run it
    assert first[0] == again[0] == 400
    assert again[1]["x-amzn-requestid"] != first[1]["x-amzn-requestid"]
    assert aws.failures.since(mark) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/2015-03-31/functions"), ("POST", "/2015-03-31/functions/echo/invocations")],
)
def test_reads_and_invocations_are_never_served_again(method: str, path: str) -> None:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_AMZ_SDK_INVOCATION_ID": "op-5",
        "HTTP_AMZ_SDK_REQUEST": "attempt=2; max=3",
    }
    assert lost_answers.attempt_of(environ) is None
    assert lost_answers.attempt_of({**environ, "REQUEST_METHOD": "POST", "PATH_INFO": "/"}) == (
        lost_answers.Attempt("op-5", 2)
    )


def test_an_apply_whose_create_answer_was_lost_succeeds_and_names_the_loss(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_terraform()
    server = aws._server._server
    watched = server.app
    resets: list[str] = []

    def losing_first_log_group_answer(environ: dict[str, Any], start_response: Any) -> Any:
        body = watched(environ, start_response)  # stored and answered 2xx, the answer kept
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith("CreateLogGroup") and not resets:
            resets.append(environ["HTTP_AMZ_SDK_INVOCATION_ID"])
            connection = environ["werkzeug.socket"]
            # Linger 0: the answer never leaves, the client sees a reset connection and retries.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.shutdown(socket.SHUT_RDWR)
        return body

    monkeypatch.setattr(server, "app", losing_first_log_group_answer)
    mark = aws.failures.count
    deployment = deploy(load(str(FIXTURE)), aws, name_prefix="lost-echo")
    try:
        assert resets, "the fixture creates a log group"
        errors = [failure.error for failure in aws.failures.since(mark)]
        assert "its 200 answer was lost: attempt 2 got it again" in errors
    finally:
        destroy(deployment)
