"""The embedded AWS's own tests each start a LocalAws of their own."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import pytest

from catalog.localaws import LocalAws


def exclusive() -> None:
    # moto's state is process-wide, so one LocalAws runs at a time. The catalog.testing plugin runs
    # these tests before the session's `local_aws` starts; this guards a run that reorders them.
    if LocalAws.running() is not None:
        pytest.skip("another LocalAws is running in this session (the `local_aws` fixture)")


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    exclusive()
    with LocalAws() as local:
        yield local


ECHO = "def handler(event, context):\n    return event\n"


@pytest.fixture
def make_function(aws: LocalAws) -> Callable[..., str]:
    """`make_function(name, code=ECHO, **create_function_args)` -> the new function's ARN: `code`
    is the module `app` of the zip, `app.handler` the handler, with a role of its own."""

    def make(name: str, code: str = ECHO, **extra: object) -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", code)
        role = aws.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
        created = aws.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
            **extra,
        )
        return str(created["FunctionArn"])

    return make


@pytest.fixture
def make_stream_table(aws: LocalAws) -> Callable[[str], str]:
    """`make_stream_table(name)` -> the stream ARN of a new table (string hash key `pk`)."""

    def make(name: str) -> str:
        created = aws.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        return str(created["TableDescription"]["LatestStreamArn"])

    return make
