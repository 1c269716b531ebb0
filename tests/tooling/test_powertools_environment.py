"""Powertools Logger takes its service name from the environment: both engines give every function
of a pattern POWERTOOLS_SERVICE_NAME = the pattern's name (parity compares only the keys).
`pattern` is parametrized over every pattern by the suite's conftest."""

from __future__ import annotations

from collections.abc import Callable

from catalog.patterns import Pattern
from catalog.resources import Resource

# The session's models (tests/conftest.py): each pattern evaluated once, shared with parity.
Model = Callable[[Pattern], list[Resource]]


def _service_names(resources: list[Resource]) -> dict[str, object]:
    functions = [r for r in resources if r.kind == "aws_lambda_function"]
    assert functions, "no Lambda function found"
    return {
        r.address: (r.prop("environment", "variables") or {}).get("POWERTOOLS_SERVICE_NAME")
        for r in functions
    }


def test_pulumi_sets_the_service_name_on_every_function(
    pattern: Pattern, pulumi_model: Model
) -> None:
    names = _service_names(pulumi_model(pattern))
    assert set(names.values()) == {pattern.name}, names


def test_terraform_sets_the_service_name_on_every_function(
    pattern: Pattern, terraform_settings_model: Model
) -> None:
    names = _service_names(terraform_settings_model(pattern))
    assert set(names.values()) == {pattern.name}, names
