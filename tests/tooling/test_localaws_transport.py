"""The in-process transport: this process's clients reach the embedded AWS without a socket,
with the answers HTTP gives; other processes still use the socket."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

from catalog.localaws import LocalAws
from catalog.localaws.transport import _environ

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
