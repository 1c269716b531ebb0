"""3. Log retention: every function and state machine has an explicit log group with retention."""

from __future__ import annotations

import re
from collections.abc import Callable

from catalog.engines.terraform import TerraformWorkspace
from catalog.inspect import terraform_resources
from catalog.localaws import LocalAws
from catalog.patterns import Pattern
from catalog.policies import (
    ALLOWED_RETENTION_DAYS,
    LOGGED_KINDS,
    check_log_retention,
    find_log_group,
)
from catalog.resources import Resource, from_hcl

Model = Callable[[Pattern], list[Resource]]


def _assert_every_logged_resource_has_retention(resources: list[Resource]) -> None:
    logged = [r for r in resources if r.kind in LOGGED_KINDS]
    assert logged, "the pattern has functions or state machines"
    groups = [r for r in resources if r.kind == "aws_cloudwatch_log_group"]
    for resource in logged:
        group = find_log_group(resource, groups)
        assert group is not None, f"{resource.address} has no log group"
        assert group.prop("retention_in_days") in ALLOWED_RETENTION_DAYS
    assert check_log_retention(resources) == []


def test_terraform_plan_sets_retention(pattern: Pattern, terraform_model: Model) -> None:
    _assert_every_logged_resource_has_retention(terraform_model(pattern))


def test_terraform_hcl_declares_log_groups_with_retention(pattern: Pattern) -> None:
    # The same policy over the written HCL (the review reads this form): retention is not left null.
    groups = [r for r in from_hcl(pattern.terraform_dir) if r.kind == "aws_cloudwatch_log_group"]
    assert groups and all(g.prop("retention_in_days") is not None for g in groups)


def test_pulumi_graph_sets_retention(pattern: Pattern, pulumi_model: Model) -> None:
    _assert_every_logged_resource_has_retention(pulumi_model(pattern))


def test_check_fails_when_terraform_retention_is_removed(
    pattern: Pattern, local_aws: LocalAws
) -> None:
    """A deliberately broken copy: the function module's log group loses its retention."""

    def drop_retention(workspace: TerraformWorkspace) -> None:
        module = workspace.base / "terraform" / "modules" / "python-function" / "main.tf"
        module.write_text(
            re.sub(r"^\s*retention_in_days\s*=.*$", "", module.read_text(), flags=re.MULTILINE)
        )

    violations = check_log_retention(
        terraform_resources(pattern, local_aws, before_plan=drop_retention)
    )
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
