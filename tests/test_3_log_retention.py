"""3. Log retention: every function and state machine has an explicit log group with retention.

Per function, in both engines: its log group exists, is the group it logs to, has a retention, and
is created before it (`check_log_group_wiring`). The planted defects below prove each can fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.engines.terraform import TerraformWorkspace
from catalog.inspect import pulumi_resources
from catalog.patterns import Pattern, discover, load
from catalog.policies import (
    ALLOWED_RETENTION_DAYS,
    LOGGED_KINDS,
    check_log_group_wiring,
    check_log_retention,
    find_log_group,
)
from catalog.resources import Resource, from_hcl
from catalog.testing import components_from, copy_repo_parts, planned_variant, plant

Model = Callable[[Pattern], list[Resource]]
VariantModel = Callable[[Pattern, str], list[Resource]]
PATTERNS = discover()


def _assert_every_logged_resource_has_retention(resources: list[Resource]) -> None:
    logged = [r for r in resources if r.kind in LOGGED_KINDS]
    assert logged, "the pattern has functions or state machines"
    groups = [r for r in resources if r.kind == "aws_cloudwatch_log_group"]
    for resource in logged:
        group = find_log_group(resource, groups)
        assert group is not None, f"{resource.address} has no log group"
        assert group.prop("retention_in_days") in ALLOWED_RETENTION_DAYS
    assert check_log_retention(resources) == []
    violations = check_log_group_wiring(resources)
    assert not violations, "\n".join(f"{v.address}: {v.message}" for v in violations)


def test_terraform_plan_sets_retention(pattern: Pattern, terraform_model: Model) -> None:
    _assert_every_logged_resource_has_retention(terraform_model(pattern))


def test_terraform_hcl_ties_a_log_group_to_every_function(pattern: Pattern) -> None:
    # The same policy over the written HCL (the form the review reads): per function, not per group.
    resources = from_hcl(pattern.terraform_dir)
    assert [r for r in resources if r.kind in LOGGED_KINDS]
    violations = check_log_group_wiring(resources)
    assert not violations, "\n".join(f"{v.address}: {v.message}" for v in violations)


def test_pulumi_graph_sets_retention(pattern: Pattern, pulumi_model: Model) -> None:
    _assert_every_logged_resource_has_retention(pulumi_model(pattern))


def _drop_retention(workspace: TerraformWorkspace) -> None:
    """A deliberately broken copy: the function module's log group loses its retention."""
    module = workspace.base / "terraform" / "modules" / "python-function" / "main.tf"
    module.write_text(
        re.sub(r"^\s*retention_in_days\s*=.*$", "", module.read_text(), flags=re.MULTILINE)
    )


# Planned beside the root, in the same `terraform plan` (see `terraform_model`).
RETENTION_REMOVED = planned_variant("retention_removed", edit=_drop_retention)


def test_check_fails_when_terraform_retention_is_removed(
    pattern: Pattern, terraform_model: VariantModel
) -> None:
    violations = check_log_retention(terraform_model(pattern, RETENTION_REMOVED))
    assert violations and all(v.policy == "log-retention" for v in violations)
    assert any("never expire" in v.message for v in violations)


def test_check_fails_for_a_function_without_log_group() -> None:
    function = Resource(
        "terraform", "aws_lambda_function", "aws_lambda_function.f", {"function_name": "f"}
    )
    state_machine = Resource(
        "terraform", "aws_sfn_state_machine", "aws_sfn_state_machine.s", {"name": "s"}
    )
    assert len(check_log_retention([function, state_machine])) == 2


def test_check_rejects_retention_outside_the_cloudwatch_list() -> None:
    group = Resource(
        "pulumi",
        "aws_cloudwatch_log_group",
        "g",
        {"name": "/aws/lambda/f", "retention_in_days": 10},
    )
    function = Resource("pulumi", "aws_lambda_function", "f", {"function_name": "f"})
    assert [v.address for v in check_log_retention([group, function])] == ["g"]


# ------------------------------------------------------------------ planted defects, per function
# The function no longer waits for its log group: logging_config names the group by a literal,
# the IAM policy gives a literal ARN, and the group is dropped from depends_on. On AWS, Lambda can
# then create the group itself, without retention, before Terraform does. The `=` may be aligned
# either way: a workspace whose module python-hcl2 rewrote (offline adaptation) aligns it anew.
TF_STOPS_WAITING = (
    (r"log_group +=\s*aws_cloudwatch_log_group\.this\.name", 'log_group = "/aws/lambda/${var.function_name}"'),
    (r'"\$\{aws_cloudwatch_log_group\.this\.arn\}:\*"', '"arn:aws:logs:*:*:log-group:/aws/lambda/${var.function_name}:*"'),
    (r"^    aws_cloudwatch_log_group\.this,\n", ""),
)  # fmt: skip
# The module's log group is deleted (and what pointed at it made literal, so the root still plans).
TF_DELETES_GROUP = (
    (r'^resource "aws_cloudwatch_log_group" "this" \{.*?^\}\n', ""),
    *TF_STOPS_WAITING,
)
TF_OUTPUTS_WITHOUT_GROUP = (
    (r"aws_cloudwatch_log_group\.this\.name", '"/aws/lambda/${var.function_name}"'),
    (r"aws_cloudwatch_log_group\.this\.arn", '"arn:aws:logs:*:*:log-group:/aws/lambda/${var.function_name}"'),
)  # fmt: skip
PULUMI_STOPS_WAITING = (
    (r"log_group=log_group\.name,", 'log_group=f"/aws/lambda/{args.function_name}",'),
    (r'\[log_group\.arn\.apply\(lambda arn: f"\{arn\}:\*"\)\]', '[f"arn:aws:logs:*:*:log-group:/aws/lambda/{args.function_name}:*"]'),
    (r"depends_on=\[log_group, ", "depends_on=["),
)  # fmt: skip
PULUMI_DELETES_GROUP = (
    (r"^        log_group = aws\.cloudwatch\.LogGroup\(.*?^        \)\n", ""),
    *PULUMI_STOPS_WAITING,
    (r"= log_group\.name$", '= pulumi.Output.from_input(f"/aws/lambda/{args.function_name}")'),
)


def _module_functions(resources: list[Resource]) -> set[str]:
    """The functions the shared python-function module (or component) declares."""
    return {
        r.address
        for r in resources
        if r.kind == "aws_lambda_function"
        and (".aws_lambda_function.this" in r.address or "PythonFunction$" in r.address)
    }


def _named(violations: list, fragment: str) -> set[str]:
    return {v.address for v in violations if fragment in v.message}


def _stop_waiting(workspace: TerraformWorkspace) -> None:
    plant(workspace.base / "terraform/modules/python-function/main.tf", *TF_STOPS_WAITING)


# One plan proves the plan reading can fail; the module is shared, and the HCL variant below
# runs for every pattern.
_WAITING_PATTERN = next(p for p in PATTERNS if _module_functions(from_hcl(p.terraform_dir))).name
STOPS_WAITING = planned_variant("stops_waiting", edit=_stop_waiting, pattern=_WAITING_PATTERN)


# `pattern_name`: the test runs on the worker that holds that pattern's plan.
@pytest.mark.parametrize("pattern_name", [_WAITING_PATTERN])
def test_check_fails_when_the_terraform_function_stops_waiting_for_its_group(
    pattern_name: str, terraform_model: VariantModel
) -> None:
    resources = terraform_model(load(pattern_name), STOPS_WAITING)
    functions = _module_functions(resources)
    violations = check_log_group_wiring(resources)
    assert functions and _named(violations, "is not created after its log group") == functions
    assert check_log_retention(resources) == []  # the retention alone never showed it


def test_check_fails_when_the_terraform_module_loses_its_log_group(
    pattern: Pattern, tmp_path: Path
) -> None:
    copy = copy_repo_parts(pattern, tmp_path, "terraform")
    module = tmp_path / "terraform/modules/python-function"
    plant(module / "main.tf", *TF_DELETES_GROUP)
    plant(module / "outputs.tf", *TF_OUTPUTS_WITHOUT_GROUP)
    resources = from_hcl(copy / "terraform")
    functions = _module_functions(resources)
    assert functions and _named(check_log_group_wiring(resources), "no log group") == functions


def test_hcl_check_fails_when_the_terraform_function_stops_waiting(
    pattern: Pattern, tmp_path: Path
) -> None:
    copy = copy_repo_parts(pattern, tmp_path, "terraform")
    plant(tmp_path / "terraform/modules/python-function/main.tf", *TF_STOPS_WAITING)
    resources = from_hcl(copy / "terraform")
    functions = _module_functions(resources)
    assert functions and {v.address for v in check_log_group_wiring(resources)} >= functions


def test_check_fails_when_the_pulumi_function_stops_waiting_for_its_group(
    pattern: Pattern, tmp_path: Path
) -> None:
    copy = copy_repo_parts(pattern, tmp_path, "pulumi")
    plant(tmp_path / "pulumi/catalog_pulumi/function.py", *PULUMI_STOPS_WAITING)
    with components_from(tmp_path):
        resources = pulumi_resources(copy / "pulumi")
    functions = _module_functions(resources)
    violations = check_log_group_wiring(resources)
    assert functions and _named(violations, "is not created after its log group") == functions


def test_check_fails_when_the_pulumi_component_loses_its_log_group(
    pattern: Pattern, tmp_path: Path
) -> None:
    copy = copy_repo_parts(pattern, tmp_path, "pulumi")
    plant(tmp_path / "pulumi/catalog_pulumi/function.py", *PULUMI_DELETES_GROUP)
    with components_from(tmp_path):
        resources = pulumi_resources(copy / "pulumi")
    functions = _module_functions(resources)
    assert functions and _named(check_log_group_wiring(resources), "no log group") == functions


def test_check_fails_when_a_function_logs_to_another_group() -> None:
    group = Resource(
        "pulumi",
        "aws_cloudwatch_log_group",
        "g",
        {"name": "/aws/lambda/f", "retention_in_days": 14},
    )
    function = Resource(
        "pulumi",
        "aws_lambda_function",
        "f",
        {"function_name": "f", "logging_config": {"log_group": "/aws/lambda/shared"}},
        depends_on=("g",),
    )
    assert [v.message for v in check_log_group_wiring([group, function])] == [
        "no log group of its own (it logs to '/aws/lambda/shared')"
    ]
    waiting = Resource(
        "pulumi", "aws_lambda_function", "f", {"function_name": "f"}, depends_on=("g",)
    )
    assert check_log_group_wiring([group, waiting]) == []
