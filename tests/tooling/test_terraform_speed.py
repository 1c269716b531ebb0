"""The runner's speed measures keep Terraform's behaviour: a reused init is a working init, the
machine-readable log gives Terraform's own time and per-resource times, errors stay readable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from catalog.engines import terraform_init
from catalog.engines.terraform import PLUGIN_DIR_ENV, TerraformWorkspace, local_override
from catalog.engines.terraform_log import TerraformLog
from catalog.localaws import LocalAws
from catalog.patterns import discover


def _line(stamp: str, **fields: object) -> str:
    return json.dumps({"@timestamp": f"2026-12-01T10:00:{stamp}Z", "@level": "info", **fields})


def test_log_gives_own_time_resource_times_and_errors() -> None:
    stdout = "\n".join(
        [
            _line("00.000000", type="version", **{"@message": "Terraform 1.11.4"}),
            "not json: a stray line",
            _line(
                "05.000000",
                type="apply_complete",
                hook={"resource": {"addr": "aws_sqs_queue.q"}, "elapsed_seconds": 4},
            ),
            json.dumps(
                {
                    "@timestamp": "2026-12-01T10:00:07.500000Z",
                    "@level": "error",
                    "@message": "Error: creating queue",
                    "diagnostic": {"detail": "AccessDenied"},
                }
            ),
        ]
    )
    log = TerraformLog.parse(stdout)
    assert log.own_seconds() == pytest.approx(7.5)
    assert log.resource_seconds() == {"aws_sqs_queue.q": 4.0}
    assert log.errors() == ["Error: creating queue: AccessDenied"]
    assert TerraformLog.parse("plain text output").own_seconds() is None


def test_the_local_override_names_no_endpoint_and_the_environment_does() -> None:
    text = local_override("eu-west-1")
    assert "endpoints" not in text and 'region                      = "eu-west-1"' in text


def test_init_key_follows_sources_and_versions_only(tmp_path) -> None:
    root = tmp_path / "patterns" / "p" / "terraform"
    root.mkdir(parents=True)
    main = root / "main.tf"
    main.write_text('module "m" {\n  source = "../m"\n  retention_in_days = 14\n}\n')
    key = terraform_init.init_key(tmp_path, root, "/mirror")
    main.write_text('module "m" {\n  source = "../m"\n  retention_in_days = 7\n}\n')
    assert terraform_init.init_key(tmp_path, root, "/mirror") == key
    main.write_text('module "m" {\n  source = "../other"\n  retention_in_days = 7\n}\n')
    assert terraform_init.init_key(tmp_path, root, "/mirror") != key
    assert terraform_init.init_key(tmp_path, root, None) != key


def test_a_restored_init_is_a_working_init(aws: LocalAws) -> None:
    """The second workspace of a pattern gets the first one's init; terraform accepts it as is."""
    if shutil.which("terraform") is None or not os.environ.get(PLUGIN_DIR_ENV):
        pytest.skip(f"needs terraform on PATH and {PLUGIN_DIR_ENV} (the provider mirror)")
    pattern = discover()[0]
    with TerraformWorkspace(pattern, aws=aws) as first:
        first.init()
        assert "init" in first.terraform_timings  # terraform ran
        first_base = first.base  # read while it exists: a removed workspace has no folder
    with TerraformWorkspace(pattern, aws=aws) as second:
        second.init()
        assert second.terraform_timings["init"] == 0.0  # restored, terraform did not run
        assert not (second.root / ".terraform" / "providers").resolve().is_relative_to(first_base)
        result = subprocess.run(
            ["terraform", "validate", "-json"],
            cwd=second.root,
            env=second._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert json.loads(result.stdout)["valid"] is True, result.stdout
