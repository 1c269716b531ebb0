"""pytest plugin (loaded with `-p catalog.testing`): the embedded AWS and deployed patterns.

`local_aws` is one embedded AWS for the whole session. `deployed_pattern(name)` deploys a pattern's
Terraform root onto it once per session and destroys it at the end, so pattern tests exercise the
stack a user would get.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from .deploy import Deployment, deploy, destroy
from .localaws import LocalAws
from .patterns import load


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the session's embedded AWS run last.

    moto's state is process-wide, so only one LocalAws runs at a time: tests that start one of
    their own (the embedded AWS's own tests, the deploy-destroy cycles that need an empty account)
    must run before the session instance starts.
    """
    items.sort(key=lambda item: "local_aws" in getattr(item, "fixturenames", ()))


def require_terraform() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: install Terraform >= 1.6 to run deploy tests")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


@pytest.fixture(scope="session")
def deployed_pattern(local_aws: LocalAws) -> Iterator[Callable[[str], Deployment]]:
    deployments: dict[str, Deployment] = {}

    def get(name: str) -> Deployment:
        if name not in deployments:
            require_terraform()
            deployments[name] = deploy(load(name), local_aws)
        return deployments[name]

    yield get
    for deployment in deployments.values():
        destroy(deployment)
