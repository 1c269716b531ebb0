"""5. Parity: both engines create the same resource kinds and counts, retention and removal."""

from __future__ import annotations

from collections.abc import Callable

from catalog.patterns import Pattern
from catalog.policies import check_parity, resource_profile
from catalog.resources import Resource

Model = Callable[[Pattern], list[Resource]]


def test_engines_agree(pattern: Pattern, terraform_model: Model, pulumi_model: Model) -> None:
    terraform, pulumi = terraform_model(pattern), pulumi_model(pattern)
    violations = check_parity(terraform, pulumi)
    assert not violations, "\n".join(v.message for v in violations)
    assert resource_profile(terraform)["kinds"]


def test_parity_check_fails_on_a_missing_resource(pattern: Pattern, pulumi_model: Model) -> None:
    resources = pulumi_model(pattern)
    dropped = next(r for r in resources if r.kind == "aws_cloudwatch_log_group")
    assert check_parity(resources, [r for r in resources if r is not dropped])
