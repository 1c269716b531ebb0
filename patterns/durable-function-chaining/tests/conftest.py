"""Fixtures of the durable-function-chaining tests.

Unit tests (`test_dfc_units.py`) run the workers against in-process moto. Everything else runs on
the stack a user gets: the catalog's `deployed_pattern` fixture (plugin `catalog.testing`) deploys
../terraform to the embedded AWS once per session, and the `durable_local` driver runs the
orchestrator under the SDK's local runner with the workers bound in-process to those tables.
The embedded AWS itself covers the emulator gaps these tests meet (AWS managed policies attached on
demand, one DynamoDB request at a time): see catalog.localaws.shims.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from catalog.deploy import Deployment

PATTERN_DIR = Path(__file__).resolve().parents[1]
for folder in (PATTERN_DIR / "src", Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from dfc_harness import Chain  # noqa: E402


@pytest.fixture(scope="session")
def dfc_deployment(deployed_pattern: Callable[[str], Deployment]) -> Deployment:
    return deployed_pattern(PATTERN_DIR.name)


@pytest.fixture
def chain(dfc_deployment: Deployment) -> Iterator[Chain]:
    """The deployed pattern with empty tables, the default stock and no faults."""
    driver = Chain(dfc_deployment.context())
    driver.clear()
    driver.seed()
    if driver.ctx.aws is not None:
        driver.ctx.aws.faults.clear()
    yield driver
    if driver.ctx.aws is not None:
        driver.ctx.aws.faults.clear()
