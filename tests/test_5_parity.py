"""5. Parity: both engines create the same resources with the same settings.

Resources pair up by what names them in AWS; settings are compared per resource (runtime, handler,
memory, timeout, architecture, environment keys, IAM statements per role, log groups and
retention, event-source mappings, table keys, billing and streams, state machine logging, ...;
the table is `catalog.settings.KINDS`). The Terraform side is the root evaluated under
`mock_provider`, the Pulumi side the program under mocks; both get the same computed ARNs, so the
resources an IAM statement grants compare literally.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.engines.terraform import TerraformWorkspace
from catalog.inspect import pulumi_resources
from catalog.patterns import PATTERNS_DIR, Pattern, discover, load
from catalog.policies import check_parity
from catalog.resources import Resource
from catalog.testing import evaluated_variant

Model = Callable[[Pattern], list[Resource]]
VariantModel = Callable[[Pattern, str], list[Resource]]

# Prepended to a copy of a Pulumi program: one function gets another timeout, one role policy
# one more action. A stack transformation sees every resource the program registers.
_PULUMI_DRIFT = """
import json as _json
import pulumi as _pulumi

_drifted = set()


def _drift(args):
    props = dict(args.props)
    if args.type_ == "aws:lambda/function:Function" and "timeout" not in _drifted:
        _drifted.add("timeout")
        props["timeout"] = props["timeout"] + 1
    elif args.type_ == "aws:iam/rolePolicy:RolePolicy" and "action" not in _drifted:
        _drifted.add("action")

        def widen(text):
            document = _json.loads(text)
            document["Statement"][0]["Action"] = [*document["Statement"][0]["Action"], "logs:DeleteLogGroup"]
            return _json.dumps(document)

        props["policy"] = _pulumi.Output.from_input(props["policy"]).apply(widen)
    return _pulumi.ResourceTransformationResult(props, args.opts)


_pulumi.runtime.register_stack_transformation(_drift)
"""


def test_engines_agree(
    pattern: Pattern, terraform_settings_model: Model, pulumi_model: Model
) -> None:
    terraform, pulumi = terraform_settings_model(pattern), pulumi_model(pattern)
    violations = check_parity(terraform, pulumi)
    assert not violations, "\n".join(v.message for v in violations)
    assert {r.kind for r in terraform} >= {"aws_lambda_function", "aws_iam_role_policy"}


def test_parity_check_fails_on_a_missing_resource(pattern: Pattern, pulumi_model: Model) -> None:
    resources = pulumi_model(pattern)
    dropped = next(r for r in resources if r.kind == "aws_cloudwatch_log_group")
    violations = check_parity(resources, [r for r in resources if r is not dropped])
    assert [v.address for v in violations] == [f"aws_cloudwatch_log_group {dropped.props['name']}"]


def _drifted_program(pattern: Pattern, tmp_path: Path, drift: str) -> Path:
    """A copy of the pattern whose Pulumi program runs `drift` first; the program's folder."""
    copy = tmp_path / PATTERNS_DIR.name / pattern.name
    shutil.copytree(pattern.root, copy, ignore=shutil.ignore_patterns("build", "tests", "venv"))
    program = copy / "pulumi" / "__main__.py"
    program.write_text(drift + program.read_text())
    return program.parent


def _drift_pattern() -> Pattern:
    return discover()[0]


# `pattern_name`: the drift tests run on the worker that holds that pattern's models.
@pytest.mark.parametrize("pattern_name", [_drift_pattern().name])
def test_parity_names_the_setting_when_pulumi_drifts(
    pattern_name: str, terraform_settings_model: Model, tmp_path: Path
) -> None:
    """A copy of a Pulumi program with one more second of timeout and one more IAM action."""
    pattern = load(pattern_name)
    program = _drifted_program(pattern, tmp_path, _PULUMI_DRIFT)

    messages = [
        v.message
        for v in check_parity(terraform_settings_model(pattern), pulumi_resources(program))
    ]

    assert len(messages) == 2, messages
    timeout, action = sorted(messages, key=lambda m: "policy" in m)
    assert (
        timeout.startswith("aws_lambda_function '") and ": timeout differs: terraform " in timeout
    )
    assert "aws_iam_role_policy '" in action and ".actions differs" in action
    assert "logs:DeleteLogGroup" in action


def _module_timeout_drift(workspace: TerraformWorkspace) -> None:
    """The shared module, changed in the temporary workspace only: every function gets 1 s more."""
    module = workspace.base / "terraform" / "modules" / "python-function" / "main.tf"
    text = module.read_text()
    assert "timeout                        = var.timeout\n" in text
    module.write_text(text.replace("= var.timeout\n", "= var.timeout + 1\n"))


# Evaluated beside the root, in the same mocked evaluation (see `terraform_settings_model`).
TIMEOUT_DRIFT = evaluated_variant(
    "timeout_drift", edit=_module_timeout_drift, pattern=_drift_pattern().name
)


@pytest.mark.parametrize("pattern_name", [_drift_pattern().name])
def test_parity_names_the_setting_when_terraform_drifts(
    pattern_name: str, terraform_settings_model: VariantModel, pulumi_model: Model
) -> None:
    pattern = load(pattern_name)
    violations = check_parity(
        terraform_settings_model(pattern, TIMEOUT_DRIFT), pulumi_model(pattern)
    )

    assert violations
    for violation in violations:
        assert violation.address.startswith("aws_lambda_function ")
        assert ": timeout differs: terraform " in violation.message


# The drifts planted in issue 9: Pulumi settings that differ from Terraform's on one function.
_PULUMI_SETTING_DRIFT = """
import pulumi as _pulumi

_SETTINGS = {settings!r}


def _drift(args):
    props = dict(args.props)
    name = props.get("name")
    if args.type_ == "aws:lambda/function:Function" and isinstance(name, str) and name.endswith({suffix!r}):
        props.update(_SETTINGS)
    return _pulumi.ResourceTransformationResult(props, args.opts)


_pulumi.runtime.register_stack_transformation(_drift)
"""


@pytest.mark.parametrize(
    ("pattern_name", "function_suffix", "settings"),
    [
        ("durable-function-chaining", "-orchestrator", {"timeout": 30, "memorySize": 1024}),
        ("stepfunctions-saga", "-charge-payment", {"timeout": 3}),
    ],
)
def test_parity_names_each_planted_pulumi_setting(
    pattern_name: str,
    function_suffix: str,
    settings: dict[str, int],
    terraform_settings_model: Model,
    tmp_path: Path,
) -> None:
    """Each setting a Pulumi copy changes on one function is named, on that function only."""
    pattern = next(p for p in discover() if p.name == pattern_name)
    drift = _PULUMI_SETTING_DRIFT.format(settings=settings, suffix=function_suffix)
    program = _drifted_program(pattern, tmp_path, drift)

    violations = check_parity(terraform_settings_model(pattern), pulumi_resources(program))

    expected = {"timeout": "timeout", "memorySize": "memory_size"}
    assert len(violations) == len(settings), [v.message for v in violations]
    for violation in violations:
        assert violation.address.startswith("aws_lambda_function ")
        assert f"{function_suffix}': " in violation.message, violation.message
    named = {v.message.split("': ", 1)[1].split(" differs")[0] for v in violations}
    assert named == {expected[key] for key in settings}, [v.message for v in violations]


# `pattern_name`: these run on the worker that holds the durable pattern's models.
@pytest.mark.parametrize("pattern_name", ["durable-function-chaining"])
def test_parity_names_a_durable_setting_when_pulumi_drifts(
    pattern_name: str, terraform_settings_model: Model, tmp_path: Path
) -> None:
    """A Pulumi copy whose durable orchestrator may run one hour instead of eight days."""
    pattern = load(pattern_name)
    drift = _PULUMI_SETTING_DRIFT.format(
        settings={"durableConfig": {"executionTimeout": 3600, "retentionPeriod": 14}},
        suffix="-orchestrator",
    )
    program = _drifted_program(pattern, tmp_path, drift)

    violations = check_parity(terraform_settings_model(pattern), pulumi_resources(program))

    (violation,) = violations
    assert violation.address == "aws_lambda_function durable-chain-orchestrator"
    assert "'durable-chain-orchestrator': durable execution_timeout differs: " in violation.message
    assert "691200" in violation.message and "3600" in violation.message


def _retention_drift(workspace: TerraformWorkspace) -> None:
    """The root's history retention changed in the temporary workspace only (an override file)."""
    (workspace.root / "catalog_drift_override.tf").write_text(
        'variable "execution_history_retention_days" {\n  default = 30\n}\n'
    )


RETENTION_DRIFT = evaluated_variant(
    "retention_drift", edit=_retention_drift, pattern="durable-function-chaining"
)


@pytest.mark.parametrize("pattern_name", ["durable-function-chaining"])
def test_parity_names_a_durable_setting_when_terraform_drifts(
    pattern_name: str, terraform_settings_model: VariantModel, pulumi_model: Model
) -> None:
    """The durable_config the offline provider cannot take is still evaluated and compared."""
    pattern = load(pattern_name)
    violations = check_parity(
        terraform_settings_model(pattern, RETENTION_DRIFT), pulumi_model(pattern)
    )

    (violation,) = violations
    assert violation.address == "aws_lambda_function durable-chain-orchestrator"
    assert "'durable-chain-orchestrator': durable retention_period differs: " in violation.message
    assert "30" in violation.message and "14" in violation.message
