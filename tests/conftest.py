"""The shared suite runs every check for every folder in patterns/ (nothing is registered by hand)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.inspect import pulumi_resources, terraform_mock_resources, terraform_resources
from catalog.localaws import LocalAws
from catalog.patterns import Pattern, discover
from catalog.resources import Resource
from catalog.testing import require_terraform

PATTERNS = discover()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pattern" in metafunc.fixturenames:
        metafunc.parametrize("pattern", PATTERNS, ids=[p.name for p in PATTERNS])


@pytest.fixture(scope="session")
def terraform_model(local_aws: LocalAws) -> Callable[[Pattern], list[Resource]]:
    """The Terraform plan of each pattern, planned once per session."""
    cache: dict[str, list[Resource]] = {}

    def get(pattern: Pattern) -> list[Resource]:
        require_terraform()
        if pattern.name not in cache:
            cache[pattern.name] = terraform_resources(pattern, local_aws)
        return cache[pattern.name]

    return get


@pytest.fixture(scope="session")
def terraform_settings_model() -> Callable[[Pattern], list[Resource]]:
    """Each pattern's root evaluated under mock_provider (every value known), once per session."""
    cache: dict[str, list[Resource]] = {}

    def get(pattern: Pattern) -> list[Resource]:
        require_terraform()
        if pattern.name not in cache:
            cache[pattern.name] = terraform_mock_resources(pattern)
        return cache[pattern.name]

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
