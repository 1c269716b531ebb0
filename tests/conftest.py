"""The shared suite runs every check for every folder in patterns/ (nothing is registered by hand)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.inspect import ROOT, pulumi_resources, terraform_mock_models, terraform_plans
from catalog.localaws import LocalAws
from catalog.patterns import Pattern, discover
from catalog.resources import Resource
from catalog.testing import EVALUATED_VARIANTS, PLANNED_VARIANTS, require_terraform, variants_for

PATTERNS = discover()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pattern" in metafunc.fixturenames:
        metafunc.parametrize("pattern", PATTERNS, ids=[p.name for p in PATTERNS])


@pytest.fixture(scope="session")
def terraform_model(local_aws: LocalAws) -> Callable[..., list[Resource]]:
    """`terraform_model(pattern, variant=ROOT)`: the Terraform plan of each pattern's root, and
    of each variant the test modules declared (`catalog.testing.planned_variant`), all from one
    plan per pattern per session."""
    cache: dict[str, dict[str, list[Resource]]] = {}

    def get(pattern: Pattern, variant: str = ROOT) -> list[Resource]:
        require_terraform()
        if pattern.name not in cache:
            variants = variants_for(PLANNED_VARIANTS, pattern.name)
            cache[pattern.name] = terraform_plans(pattern, local_aws, variants)
        return cache[pattern.name][variant]

    return get


@pytest.fixture(scope="session")
def terraform_settings_model() -> Callable[..., list[Resource]]:
    """`terraform_settings_model(pattern, variant=ROOT)`: each pattern's root (and each variant
    declared with `catalog.testing.evaluated_variant`) evaluated under mock_provider (every value
    known), in one mocked evaluation per pattern per session."""
    cache: dict[str, dict[str, list[Resource]]] = {}

    def get(pattern: Pattern, variant: str = ROOT) -> list[Resource]:
        require_terraform()
        if pattern.name not in cache:
            variants = variants_for(EVALUATED_VARIANTS, pattern.name)
            cache[pattern.name] = terraform_mock_models(pattern, variants)
        return cache[pattern.name][variant]

    return get


@pytest.fixture(scope="session")
def pulumi_model() -> Callable[[Pattern], list[Resource]]:
    """The Pulumi graph of each pattern under mocks, recorded once per session."""
    cache: dict[str, list[Resource]] = {}

    def get(pattern: Pattern) -> list[Resource]:
        if pattern.name not in cache:
            cache[pattern.name] = pulumi_resources(pattern.pulumi_dir)
        return cache[pattern.name]

    return get
