"""The in-process transport: this process's clients reach the embedded AWS without a socket,
with the answers HTTP gives; other processes still use the socket."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from catalog.localaws import LocalAws
from catalog.localaws.transport import InProcessTransport, _environ

ENV_HANDLER = (
    "import os, boto3\n"
    "def handler(event, context):\n"
    "    tables = boto3.client('dynamodb').list_tables()['TableNames']\n"
    "    return {'marker': os.environ.get('MARKER'), 'tables': tables}\n"
)


def test_clients_of_this_process_skip_the_socket(aws: LocalAws) -> None:
    assert aws.transport is not None
    before = aws.transport.requests
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="transport-q")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="héllo",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v w"}},
    )
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == "héllo"
    assert message["MessageAttributes"]["k"]["StringValue"] == "v w"
    assert aws.transport.requests == before + 3


def test_errors_and_paths_arrive_as_over_http(aws: LocalAws) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="transport-bucket")
    key = "a folder/ünïcode+plus?.txt"
    s3.put_object(Bucket="transport-bucket", Key=key, Body=b"\x00\x01", Metadata={"my_note": "x"})
    got = s3.get_object(Bucket="transport-bucket", Key=key)
    assert got["Body"].read() == b"\x00\x01"
    assert got["Metadata"] == {"my_note": "x"}  # an underscored metadata header kept its name
    try:
        aws.client("dynamodb").describe_table(TableName="absent")
    except aws.client("dynamodb").exceptions.ResourceNotFoundException as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    else:
        raise AssertionError("describe_table of a missing table succeeded")


def test_a_handler_call_runs_in_its_own_context(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    """A handler's own clients go in-process too, and the service code they reach sees the
    process environment, not the handler's overlay (as in a fresh server thread)."""
    aws.client("dynamodb").create_table(
        TableName="transport-t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    make_function("transport-fn", ENV_HANDLER, Environment={"Variables": {"MARKER": "mine"}})
    before = aws.transport.requests if aws.transport else 0
    answer = aws.client("lambda").invoke(FunctionName="transport-fn", Payload=b"{}")
    result = json.loads(answer["Payload"].read())
    assert result == {"marker": "mine", "tables": ["transport-t"]}
    assert aws.transport is not None and aws.transport.requests >= before + 2


def test_another_process_still_uses_the_socket(aws: LocalAws) -> None:
    code = (
        "import boto3, sys\n"
        "c = boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1',"
        " aws_access_key_id='testing', aws_secret_access_key='testing')\n"
        "print(c.create_queue(QueueName='from-a-subprocess')['QueueUrl'])\n"
    )
    before = aws.transport.requests if aws.transport else 0
    done = subprocess.run(
        [sys.executable, "-c", code, aws.endpoint_url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/from-a-subprocess")
    assert aws.transport is not None and aws.transport.requests == before
    assert "from-a-subprocess" in aws.client("sqs").list_queues()["QueueUrls"][-1]


def test_the_environment_is_the_one_werkzeug_builds() -> None:
    from botocore.awsrequest import AWSPreparedRequest

    request = AWSPreparedRequest(
        method="PUT",
        url="http://127.0.0.1:4566/bucket/a%20b/%C3%BC?versionId=1",
        headers={"X-Amz-Meta-My_Note": "x", "X_Spoof": "y", "Content-Type": "text/plain"},
        body=b"abc",
        stream_output=False,
    )
    environ = _environ(request)
    assert environ["PATH_INFO"] == "/bucket/a b/ü".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "versionId=1"
    assert environ["HTTP_HOST"] == "127.0.0.1:4566"
    assert environ["CONTENT_TYPE"] == "text/plain" and environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_X_AMZ_META_MY_NOTE"] == "x"
    assert "HTTP_X_SPOOF" not in environ
    assert environ["wsgi.input"].read() == b"abc"


def test_an_exception_in_the_service_answers_500_as_over_http(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """moto raising while it serves a request: over HTTP werkzeug's server answers 500, which
    botocore retries and finally raises as a ClientError; in-process the caller sees the same,
    never moto's own exception."""
    from moto.sqs.models import SQSBackend

    list_queues = SQSBackend.list_queues
    failures: list[RuntimeError] = []

    def failing(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return list_queues(self, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "list_queues", failing)
    sqs = aws.client("sqs")
    assert aws.transport is not None

    def seen() -> list[object]:
        """What the client sees of a request that fails once, then of one that always fails."""
        failures[:] = [RuntimeError("one moto bug")]
        once = sqs.list_queues()["ResponseMetadata"]["RetryAttempts"]
        failures[:] = [RuntimeError("a lasting moto bug")] * 10
        with pytest.raises(ClientError) as lasting:
            sqs.list_queues()
        failures.clear()
        answer = lasting.value.response
        return [once, answer["Error"], answer["ResponseMetadata"]["RetryAttempts"]]

    before = aws.transport.requests
    in_process = seen()
    assert aws.transport.requests == before + 2 + 3  # every attempt went in-process
    assert "moto bug" not in capfd.readouterr().err  # quiet, unlike werkzeug's server
    with monkeypatch.context() as socket_only:
        socket_only.setattr(aws.transport, "serves", lambda url: False)
        over_http = seen()
    assert aws.transport.requests == before + 5
    assert in_process == over_http
    once, error, attempts = in_process
    assert once == 1 and attempts == 2  # botocore retried (max_attempts 2 of LocalAws.client)
    assert error["Code"] == "500" and "Internal Server Error" in error["Message"]


def test_an_answer_failing_after_its_status_becomes_a_500() -> None:
    """As werkzeug's server does, a status already started is dropped for the 500, and the
    failed answer is closed."""
    from botocore.awsrequest import AWSPreparedRequest

    closed: list[bool] = []

    class FailingBody:
        def __iter__(self) -> Any:
            yield b"partial"
            raise RuntimeError("failed while streaming")

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> FailingBody:
        start_response("200 OK", [("Content-Type", "application/json")])
        return FailingBody()

    transport = InProcessTransport(app, 4566)
    request = AWSPreparedRequest(
        method="POST", url="http://127.0.0.1:4566/", headers={}, body=b"{}", stream_output=False
    )
    answer = transport.send(request)
    assert answer.status_code == 500 and closed == [True]
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>Internal Server Error</h1>" in answer.content
