"""The offline adaptation: override files for version constraints, python-hcl2 for blocks the
mirror's provider does not know; never text substitution, always named."""

from __future__ import annotations

import shutil
from pathlib import Path

import hcl2
import pytest

from catalog.engines import terraform
from catalog.engines.terraform import PROVIDER_OVERRIDE_FILE, adapt_for_local_provider, satisfies
from catalog.patterns import REPO_ROOT

MODULE = "terraform/modules/python-function"


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A provider mirror holding hashicorp/aws 5.100.0 (and an older one, to pick the newest)."""
    root = tmp_path / "mirror"
    for version in ("5.9.0", "5.100.0"):
        (root / "registry.terraform.io" / "hashicorp" / "aws" / version).mkdir(parents=True)
    monkeypatch.setenv(terraform.PLUGIN_DIR_ENV, str(root))
    return "5.100.0"


def _workspace(tmp_path: Path, caller: str) -> Path:
    base = tmp_path / "ws"
    shutil.copytree(REPO_ROOT / MODULE, base / MODULE)
    root = base / "patterns" / "demo" / "terraform"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(caller)
    return base


CALLER = """\
module "durable" {
  source         = "../../../terraform/modules/python-function"
  function_name  = "demo"
  handler        = "demo.functions.fn.handler"
  filename       = "fn.zip"
  durable_config = { execution_timeout = 900, retention_period = 7 }
}

resource "aws_ssm_parameter" "note" {
  name = "note"
  type = "String"
  # Text that looks like the block: a regular expression over the text would cut it.
  value = <<-EOT
    durable_config {
      execution_timeout = 1
    }
  EOT
}
"""


def _lambda_body(path: Path) -> dict:
    for block in hcl2.loads(path.read_text())["resource"]:
        if '"aws_lambda_function"' in block:
            return _without_comments(block['"aws_lambda_function"']['"this"'])
    raise AssertionError("no aws_lambda_function.this")


def _without_comments(value: object) -> object:
    """python-hcl2 writes no comments back; everything else must survive."""
    if isinstance(value, dict):
        return {k: _without_comments(v) for k, v in value.items() if k != "__comments__"}
    if isinstance(value, list):
        return [_without_comments(v) for v in value]
    return value


def test_durable_block_is_removed_through_the_parser_and_named(tmp_path: Path, mirror: str) -> None:
    base = _workspace(tmp_path, CALLER)
    before = _lambda_body(base / MODULE / "main.tf")
    caller_before = (base / "patterns/demo/terraform/main.tf").read_text()

    changes = adapt_for_local_provider(base)

    after = _lambda_body(base / MODULE / "main.tf")
    kept = [d for d in before["dynamic"] if '"durable_config"' not in d]
    assert after["dynamic"] == kept and len(kept) == len(before["dynamic"]) - 1
    assert {k: v for k, v in after.items() if k != "dynamic"} == {
        k: v for k, v in before.items() if k != "dynamic"
    }
    # The caller, heredoc and all, is not touched.
    assert (base / "patterns/demo/terraform/main.tf").read_text() == caller_before
    (removed,) = [c for c in changes if c.file == f"{MODULE}/main.tf"]
    assert removed.before == 'dynamic "durable_config" block of aws_lambda_function.this'
    # Each setting of the block is named, with the call that sets it.
    assert (
        "not exercised locally: durable_config.execution_timeout, durable_config.retention_period"
        " (set by module.durable durable_config = " in removed.after
    )
    assert "execution_timeout = 900" in removed.after and f"hashicorp/aws {mirror}" in removed.after
    # Only the mock evaluation records the block (below): a deploy workspace gets no record.
    assert "terraform_data" not in (base / MODULE / "main.tf").read_text()


def test_the_mock_evaluation_records_the_removed_block(tmp_path: Path, mirror: str) -> None:
    """The record is a terraform_data resource whose input repeats the block's own expressions,
    iterated as the dynamic block was, so Terraform still evaluates what it would send."""
    base = _workspace(tmp_path, CALLER)

    adapt_for_local_provider(base, record_removed=True)

    records = [
        body
        for block in hcl2.loads((base / MODULE / "main.tf").read_text())["resource"]
        for name, body in block.get('"terraform_data"', {}).items()
    ]
    (record,) = records
    assert record["input"]["resource"] == '"aws_lambda_function.this"'
    assert record["input"]["block"] == '"durable_config"'
    text = record["input"]["value"]
    assert "var.durable_config == null ? [] : [var.durable_config]" in text
    assert "execution_timeout = durable_config.value.execution_timeout" in text
    assert "retention_period = durable_config.value.retention_period" in text


def test_version_constraint_is_replaced_by_an_override_file(tmp_path: Path, mirror: str) -> None:
    base = _workspace(tmp_path, CALLER)
    versions = (base / MODULE / "versions.tf").read_text()

    changes = adapt_for_local_provider(base)

    assert (base / MODULE / "versions.tf").read_text() == versions  # the file itself is kept
    override = hcl2.loads((base / MODULE / PROVIDER_OVERRIDE_FILE).read_text())
    aws = override["terraform"][0]["required_providers"][0]["aws"]
    assert aws["version"] == f'"{mirror}"'
    (relaxed,) = [c for c in changes if c.file == f"{MODULE}/versions.tf"]
    assert ">= 6.25, < 7.0" in relaxed.before and PROVIDER_OVERRIDE_FILE in relaxed.after
    # The caller declares no constraint: no override there.
    assert not (base / "patterns/demo/terraform" / PROVIDER_OVERRIDE_FILE).exists()


def test_nothing_is_adapted_without_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(terraform.PLUGIN_DIR_ENV, raising=False)
    base = _workspace(tmp_path, CALLER)
    assert adapt_for_local_provider(base) == []
    assert "durable_config" in (base / MODULE / "main.tf").read_text()


def test_a_mirror_that_has_the_block_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mirror"
    (root / "registry.terraform.io" / "hashicorp" / "aws" / "6.32.0").mkdir(parents=True)
    monkeypatch.setenv(terraform.PLUGIN_DIR_ENV, str(root))
    base = _workspace(tmp_path, CALLER)
    assert adapt_for_local_provider(base) == []


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("5.100.0", ">= 5.100.0, < 7.0", True),
        ("5.100.0", ">= 6.25, < 7.0", False),
        ("6.32.1", "~> 6.32", True),
        ("7.0.0", "~> 6.32", False),
        ("6.33.0", "~> 6.32.1", False),
        ("6.32.4", "~> 6.32.1", True),
        ("5.100.0", "5.100.0", True),
        ("5.100.0", "!= 5.100.0", False),
    ],
)
def test_version_constraints(version: str, constraint: str, expected: bool) -> None:
    assert satisfies(version, constraint) is expected
