"""catalog_pulumi's one settings helper, durable configuration and layers: validated up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.engines.pulumi_graph import run_program
from catalog_pulumi import DurableConfig, PolicyStatement, PythonFunctionArgs

PROGRAM = """\
import pulumi

from catalog_pulumi import pattern_settings

settings = pattern_settings()
pulumi.export("prefix", settings.name_prefix)
pulumi.export("retention", settings.log_retention_days)
pulumi.export("protection", settings.deletion_protection)
"""
PROJECT = """\
name: settings
runtime: python
config:
  namePrefix:
    type: string
    default: demo-prefix
"""
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:durable-sdk:3"


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("settings")
    (folder / "Pulumi.yaml").write_text(PROJECT)
    (folder / "__main__.py").write_text(PROGRAM)
    return folder


def test_defaults_come_from_the_project_file_and_the_helper(program: Path) -> None:
    outputs = run_program(program).outputs
    assert outputs == {"prefix": "demo-prefix", "retention": 14, "protection": False}
    outputs = run_program(program, {"logRetentionDays": "30", "deletionProtection": "true"}).outputs
    assert (outputs["retention"], outputs["protection"]) == (30, True)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"namePrefix": "Not_Valid"}, "namePrefix='Not_Valid'"),
        ({"logRetentionDays": "10"}, "logRetentionDays=10"),
        ({"logRetentionDays": "two weeks"}, "logRetentionDays"),
        ({"deletionProtection": "maybe"}, "deletionProtection"),
    ],
)
def test_a_bad_setting_is_named(program: Path, config: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        run_program(program, config)


def _args(**overrides: object) -> PythonFunctionArgs:
    base: dict[str, object] = {
        "function_name": "demo",
        "handler": "demo.functions.fn.handler",
        "code_path": "fn.zip",
    }
    return PythonFunctionArgs(**{**base, **overrides})  # type: ignore[arg-type]


def test_layers_and_durable_config_are_validated() -> None:
    assert _args(layers=[LAYER]).layers == [LAYER]
    with pytest.raises(ValueError, match="layer version ARN"):
        _args(layers=["arn:aws:lambda:us-east-1:123456789012:function:demo"])
    with pytest.raises(ValueError, match="at most 5 distinct"):
        _args(layers=[LAYER, LAYER])
    assert _args(durable_config=DurableConfig(execution_timeout=900)).durable_config
    with pytest.raises(ValueError, match=r"durable_config\.execution_timeout"):
        DurableConfig(execution_timeout=0)
    with pytest.raises(ValueError, match=r"durable_config\.retention_period"):
        DurableConfig(execution_timeout=60, retention_period=91)
    with pytest.raises(ValueError, match="DurableConfig"):
        _args(durable_config={"execution_timeout": 900})


def test_statements_have_one_shape() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        PolicyStatement(sid="All", actions=["dynamodb:*"], resources=["*"])
    with pytest.raises(ValueError, match="must be a PolicyStatement"):
        _args(policy_statements=[{"sid": "A", "actions": ["s3:GetObject"], "resources": ["x"]}])
    with pytest.raises(ValueError, match="used twice"):
        statement = PolicyStatement(sid="Read", actions=["s3:GetObject"], resources=["x"])
        _args(policy_statements=[statement, statement])
