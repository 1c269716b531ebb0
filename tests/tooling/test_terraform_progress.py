"""Live Terraform progress: resources done of total, parsed from Terraform's own streamed output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from catalog.engines.terraform import plugin_dir_args
from catalog.engines.terraform_progress import TerraformProgress
from catalog.localaws import LocalAws

from .conftest import exclusive


def test_text_output_gives_the_total_and_each_finished_resource() -> None:
    lines: list[str] = []
    progress = TerraformProgress(lines.append, "apply")
    for line in (
        "Terraform will perform the following actions:",
        "Plan: 2 to add, 1 to change, 0 to destroy.",
        "aws_sqs_queue.orders: Creating...",
        "aws_sqs_queue.orders: Still creating... [10s elapsed]",
        "aws_sqs_queue.orders: Creation complete after 25s [id=https://queue]",
        'module.fn["a"].aws_lambda_function.this: Modifications complete after 1s [id=a]',
        "aws_iam_role.r: Destruction complete after 0s",
        "Apply complete! Resources: 2 added, 1 changed, 0 destroyed.",
    ):
        progress(line)
    assert lines == [
        "terraform apply: 1/3 created aws_sqs_queue.orders (25s)",
        'terraform apply: 2/3 updated module.fn["a"].aws_lambda_function.this (1s)',
        "terraform apply: 3/3 destroyed aws_iam_role.r (0s)",
    ]


def test_json_output_gives_the_total_and_each_finished_resource() -> None:
    lines: list[str] = []
    progress = TerraformProgress(lines.append, "destroy")
    progress('{"type":"version","terraform":"1.11.4"}')
    progress(
        '{"type":"change_summary","changes":{"add":0,"change":0,"remove":2,"operation":"plan"}}'
    )
    progress(
        '{"type":"apply_start","hook":{"resource":{"addr":"aws_sqs_queue.q"},"action":"delete"}}'
    )
    progress(
        '{"type":"apply_complete","hook":{"resource":{"addr":"aws_sqs_queue.q"},"action":"delete","elapsed_seconds":3}}'
    )
    progress("not json {")
    progress(
        '{"type":"apply_complete","hook":{"resource":{"addr":"aws_iam_role.r"},"action":"delete","elapsed_seconds":0}}'
    )
    progress(
        '{"type":"change_summary","changes":{"add":0,"change":0,"remove":2,"operation":"destroy"}}'
    )
    assert lines == [
        "terraform destroy: 1/2 destroyed aws_sqs_queue.q (3s)",
        "terraform destroy: 2/2 destroyed aws_iam_role.r (0s)",
    ]  # fmt: skip
    assert (progress.done, progress.total) == (2, 2)


ROOT = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  max_retries                 = 2
}
resource "aws_cloudwatch_log_group" "one" {
  name              = "/catalog/progress/one"
  retention_in_days = 1
}
resource "aws_cloudwatch_log_group" "two" {
  name              = "/catalog/progress/two"
  retention_in_days = 1
}
"""


@pytest.mark.deploy
def test_a_real_apply_and_destroy_report_every_resource(tmp_path: Path) -> None:
    """Terraform's real streamed output, both formats: apply with -json, destroy as text."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    exclusive()
    (tmp_path / "main.tf").write_text(ROOT)
    with LocalAws() as aws:
        env = {**os.environ, **aws.env(), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}

        def streamed(progress: TerraformProgress, *args: str) -> None:
            with subprocess.Popen(
                ["terraform", *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
            ) as process:
                assert process.stdout is not None
                for line in process.stdout:
                    progress(line)
            assert process.returncode == 0

        init = ["init", "-input=false", "-no-color", *plugin_dir_args()]
        subprocess.run(["terraform", *init], cwd=tmp_path, env=env, check=True, capture_output=True)
        lines: list[str] = []
        applied = TerraformProgress(lines.append, "apply")
        streamed(applied, "apply", "-json", "-auto-approve", "-input=false")
        destroyed = TerraformProgress(lines.append, "destroy")
        streamed(destroyed, "destroy", "-no-color", "-auto-approve", "-input=false")
    assert (applied.done, applied.total, destroyed.done, destroyed.total) == (2, 2, 2, 2)
    shown = re.compile(r"terraform (apply|destroy): ([12])/2 (created|destroyed) (\S+) \(\d+s\)")
    matches = [shown.fullmatch(line) for line in lines]
    assert all(matches), lines
    assert [(m[1], m[2], m[3]) for m in matches if m] == [
        ("apply", "1", "created"), ("apply", "2", "created"),
        ("destroy", "1", "destroyed"), ("destroy", "2", "destroyed"),
    ]  # fmt: skip
    addresses = {"aws_cloudwatch_log_group.one", "aws_cloudwatch_log_group.two"}
    assert {m[4] for m in matches if m and m[1] == "apply"} == addresses
    assert {m[4] for m in matches if m and m[1] == "destroy"} == addresses
