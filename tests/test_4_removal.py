"""4. Removal: by default nothing survives destroy; deletion protection is one setting away."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from catalog.engines.terraform import TerraformWorkspace
from catalog.inspect import pulumi_resources
from catalog.patterns import Pattern
from catalog.policies import STATEFUL_PROTECTION, check_removal
from catalog.resources import Resource, from_hcl
from catalog.testing import planned_variant

Model = Callable[[Pattern], list[Resource]]
VariantModel = Callable[[Pattern, str], list[Resource]]


def test_terraform_removes_everything_by_default(pattern: Pattern, terraform_model: Model) -> None:
    assert check_removal(terraform_model(pattern)) == []


def test_terraform_hcl_has_no_prevent_destroy(pattern: Pattern) -> None:
    assert check_removal(from_hcl(pattern.terraform_dir)) == []


def test_pulumi_removes_everything_by_default(pattern: Pattern, pulumi_model: Model) -> None:
    resources = pulumi_model(pattern)
    assert resources
    assert check_removal(resources) == []


def _protected(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r.kind in STATEFUL_PROTECTION]


# Planned beside the root, in the same `terraform plan` (see `terraform_model`).
PROTECTED = planned_variant("deletion_protection", variables={"deletion_protection": True})


def test_terraform_deletion_protection_is_one_variable(
    pattern: Pattern, terraform_model: VariantModel
) -> None:
    resources = terraform_model(pattern, PROTECTED)
    tables = _protected(resources)
    assert tables and all(r.prop(STATEFUL_PROTECTION[r.kind]) is True for r in tables)
    assert {v.address for v in check_removal(resources)} == {r.address for r in tables}


def test_pulumi_deletion_protection_is_one_config_value(pattern: Pattern) -> None:
    resources = pulumi_resources(pattern.pulumi_dir, {"deletionProtection": "true"})
    tables = _protected(resources)
    assert tables and all(r.prop(STATEFUL_PROTECTION[r.kind]) is True for r in tables)


def _prevent_destroy(workspace: TerraformWorkspace) -> None:
    """A deliberately broken copy: the table module gets lifecycle.prevent_destroy."""
    module = workspace.base / "terraform" / "modules" / "dynamodb-table" / "main.tf"
    text = module.read_text()
    text = re.sub(
        r'(resource "aws_dynamodb_table" "this" \{)',
        r"\1\n  lifecycle {\n    prevent_destroy = true\n  }\n",
        text,
    )
    module.write_text(text)


PREVENTS_DESTROY = planned_variant("prevent_destroy", edit=_prevent_destroy)


def test_check_fails_on_prevent_destroy(pattern: Pattern, terraform_model: VariantModel) -> None:
    resources = terraform_model(pattern, PREVENTS_DESTROY)
    violations = check_removal(resources)
    assert violations and all("prevent_destroy" in v.message for v in violations)
    assert {v.address.split(".aws_")[0] for v in violations} == {
        r.address.split(".aws_")[0] for r in _protected(resources)
    }


def test_check_fails_on_pulumi_protect(pattern: Pattern, tmp_path: Path) -> None:
    """A deliberately broken copy of the program: every resource protected via a transformation."""
    # The program reads ../src and ../statemachine: copy the pattern, not only its pulumi/ folder.
    copy = tmp_path / pattern.name
    ignore = shutil.ignore_patterns("build", "tests", "terraform", "venv", "__pycache__")
    shutil.copytree(pattern.root, copy, ignore=ignore)
    program = copy / "pulumi"
    main = program / "__main__.py"
    protect_everything = (
        "import pulumi\n"
        "pulumi.runtime.register_stack_transformation(lambda a: pulumi.ResourceTransformationResult(\n"
        "    a.props, pulumi.ResourceOptions.merge(a.opts, pulumi.ResourceOptions(protect=True))))\n"
    )
    main.write_text(main.read_text().replace("import pulumi\n", protect_everything, 1))
    violations = check_removal(pulumi_resources(program))
    assert violations and all("protected" in v.message for v in violations)


def test_check_fails_on_skip_destroy_and_buckets_without_force_destroy() -> None:
    group = Resource(
        "terraform", "aws_cloudwatch_log_group", "g", {"skip_destroy": True, "retention_in_days": 7}
    )
    bucket = Resource("terraform", "aws_s3_bucket", "b", {"force_destroy": False})
    retained = Resource("pulumi", "aws_sqs_queue", "q", {}, options={"retain_on_delete": True})
    layer = Resource("pulumi", "aws_lambda_layer_version", "l", {"skip_destroy": True})
    violations = check_removal([group, bucket, retained, layer])
    assert [v.address for v in violations] == ["g", "b", "q", "l"]
    assert "keeps the layer version after destroy" in violations[-1].message
