"""LocalAws lifecycle: start and stop cleanly, undoing every process-wide change."""

from __future__ import annotations

import os
import socket
import time

import pytest

from catalog.localaws import LocalAws

from .conftest import exclusive


@pytest.fixture(autouse=True)
def _exclusive() -> None:
    exclusive()


def _port_is_free(port: int) -> bool:
    """Nothing listens there any more and a new server can listen there again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As every server does: connections the old server closed may linger in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


def test_start_serves_and_stop_frees_the_port() -> None:
    aws = LocalAws()
    aws.start()
    try:
        assert aws.endpoint_url == f"http://127.0.0.1:{aws.port}"
        assert aws.client("sts").get_caller_identity()["Account"]
        assert not _port_is_free(aws.port)
    finally:
        aws.stop()
    assert _port_is_free(aws.port)
    aws.stop()  # a second stop is a no-op


def test_environment_and_os_environ_are_restored_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("MOTO_PORT", raising=False)
    real_environ = os.environ
    before = dict(os.environ)

    with LocalAws(region="eu-central-1") as aws:
        assert os.environ["AWS_ENDPOINT_URL"] == aws.endpoint_url
        assert os.environ["MOTO_PORT"] == str(aws.port)
        assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "eu-central-1"
        assert os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
        assert "AWS_PROFILE" not in os.environ  # no route to a real account
        assert os.getenv("AWS_ENDPOINT_URL") == aws.endpoint_url
        assert set(aws.env()) >= {
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        }

    assert os.environ is real_environ
    assert dict(os.environ) == before


def test_stop_undoes_every_patch_and_removes_temp_dirs() -> None:
    from botocore.endpoint import Endpoint
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.responses import StepFunctionResponse

    originals = {
        name: vars(LambdaFunction)[name]
        for name in ("__init__", "_invoke_lambda", "get_configuration", "update_configuration")
    }
    sfn_config = dict(default_user_config["stepfunctions"])
    http_send = vars(Endpoint)["_send"]

    with LocalAws() as aws:
        assert vars(Endpoint)["_send"] is not http_send  # the in-process transport
        workdir = aws._invoker.loader._workdir  # type: ignore[union-attr]
        assert workdir.is_dir()
        assert vars(LambdaFunction)["_invoke_lambda"] is not originals["_invoke_lambda"]
        assert hasattr(StepFunctionResponse, "validate_state_machine_definition")
        assert default_user_config["stepfunctions"]["execute_state_machine"] is True

    assert {name: vars(LambdaFunction)[name] for name in originals} == originals
    assert not hasattr(StepFunctionResponse, "validate_state_machine_definition")
    assert not hasattr(StepFunctionResponse, "list_state_machine_versions")
    assert retrier_decl.time is time
    assert vars(Endpoint)["_send"] is http_send
    assert dict(default_user_config["stepfunctions"]) == sfn_config
    assert not workdir.exists()


def test_only_one_instance_runs_at_a_time() -> None:
    with LocalAws() as first, pytest.raises(RuntimeError, match="another LocalAws"):
        assert LocalAws.running() is first
        LocalAws().start()
    assert LocalAws.running() is None
    with LocalAws() as again:  # the first one released the slot
        assert again.port


def test_failed_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    real_environ = os.environ
    before = dict(os.environ)
    aws = LocalAws()

    def broken_install() -> None:
        raise OSError("simulated failure while installing patches")

    monkeypatch.setattr(aws, "_install", broken_install)
    with pytest.raises(OSError, match="simulated"):
        aws.start()
    assert os.environ is real_environ
    assert dict(os.environ) == before
    assert _port_is_free(aws.port)
    with LocalAws():  # the slot is free again
        pass
