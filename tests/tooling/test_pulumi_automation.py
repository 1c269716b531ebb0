"""The Automation API runner: what it can show without the Pulumi CLI (the cycle itself needs it).

The real cycle is tests/test_6_deploy_destroy.py::test_pulumi_up_destroy_cycle, skipped with a
message naming the missing CLI where it is absent, and run per pattern by the GitHub workflow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from pulumi.automation import EngineEvent, OpType

from catalog.engines import pulumi_cli
from catalog.engines.terraform import LOCAL_ENDPOINT_SERVICES
from catalog.patterns import Pattern, discover

PATTERNS = discover()


def test_the_project_is_a_copy_running_on_the_catalog_environment(
    pattern: Pattern, tmp_path: Path
) -> None:
    original = (pattern.pulumi_dir / "Pulumi.yaml").read_text()
    workdir = pulumi_cli.prepare_project(pattern, tmp_path)
    assert workdir == tmp_path / "patterns" / pattern.name / "pulumi"
    project = yaml.safe_load((workdir / "Pulumi.yaml").read_text())
    assert project["name"] == yaml.safe_load(original)["name"]
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == sys.prefix
    assert (workdir / "__main__.py").read_text() == (pattern.pulumi_dir / "__main__.py").read_text()
    assert not (workdir.parent / "tests").exists() and not (workdir.parent / "build").exists()
    assert (workdir.parent / "src").is_dir()
    assert (pattern.pulumi_dir / "Pulumi.yaml").read_text() == original  # the pattern is untouched


def test_local_config_points_every_service_at_the_embedded_aws() -> None:
    aws = SimpleNamespace(region="eu-west-1", endpoint_url="http://127.0.0.1:4999")
    config = pulumi_cli.local_config(aws)  # type: ignore[arg-type]
    assert config["aws:region"] == "eu-west-1"
    endpoints = {k.rsplit(".", 1)[1]: v for k, v in config.items() if k.startswith("aws:endpoints")}
    assert endpoints == dict.fromkeys(LOCAL_ENDPOINT_SERVICES, "http://127.0.0.1:4999")


def event(**data: Any) -> EngineEvent:
    return EngineEvent.from_json({"sequence": 1, "timestamp": 1, **data})


def finished(op: str, type_: str, name: str, planning: bool = False) -> EngineEvent:
    urn = f"urn:pulumi:catalog-local::demo::{type_}::{name}"
    metadata = {"op": op, "urn": urn, "type": type_, "provider": ""}
    return event(resOutputsEvent={"metadata": metadata, "planning": planning})


def test_progress_counts_each_finished_resource_from_the_engine_events() -> None:
    lines: list[str] = []
    progress = pulumi_cli.Progress(lines.append, "up")
    progress(finished("create", "aws:dynamodb/table:Table", "orders"))
    progress(finished("create", "aws:lambda/function:Function", "charge-payment"))
    progress(finished("same", "pulumi:pulumi:Stack", "demo-catalog-local"))  # the stack itself
    progress(finished("create", "aws:sqs/queue:Queue", "planned", planning=True))  # a preview
    progress(event(diagnosticEvent={"message": "boom\n", "color": "never", "severity": "error"}))
    progress(event(diagnosticEvent={"message": "fine", "color": "never", "severity": "info"}))
    assert lines == [
        "pulumi up: 1 done · create aws:dynamodb/table:Table orders",
        "pulumi up: 2 done · create aws:lambda/function:Function charge-payment",
        "pulumi up: boom",
    ]
    assert progress.done == 2


def test_a_preview_with_only_same_resources_has_no_changes() -> None:
    assert pulumi_cli.changes({OpType.SAME: 12}) == {}
    assert pulumi_cli.changes({OpType.SAME: 11, OpType.UPDATE: 1}) == {"update": 1}


def test_without_the_cli_every_entry_point_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert pulumi_cli.pulumi_available() is False
    for call in (
        lambda: pulumi_cli.cycle(PATTERNS[0], print),
        lambda: pulumi_cli.up(PATTERNS[0], "local", print),
        lambda: pulumi_cli.down(PATTERNS[0], "aws", print),
    ):
        with pytest.raises(pulumi_cli.PulumiError, match="Pulumi CLI is not on PATH"):
            call()
