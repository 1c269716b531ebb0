"""Fixtures of the stepfunctions-saga tests.

Unit tests run the handlers in-process against moto (`saga_tables`). The end-to-end tests use
`saga`, built on the catalog plugin's `deployed_pattern` (`catalog.testing`): the pattern's
Terraform root deployed once per session to the embedded AWS, running the built zips.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.moto_fixtures import InProcessAws

PATTERN_DIR = Path(__file__).resolve().parents[1]
SRC_DIR = PATTERN_DIR / "src"
# --import-mode=importlib puts neither folder on sys.path: the handlers' package (`sfn_saga`) and
# the end-to-end helpers (`sfn_saga_e2e`, named to be unique across the catalog).
for folder in (SRC_DIR, PATTERN_DIR / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from sfn_saga import tables  # noqa: E402

# One string hash key per table, as the IaC declares them.
KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}


@pytest.fixture
def saga_tables(moto_aws: InProcessAws) -> dict[str, Any]:
    """moto in-process (`moto_aws`) with three tables of their own, by logical name; the
    handlers' environment points at them."""
    created = moto_aws.tables(KEYS)
    tables.reset_clients()
    moto_aws.on_teardown(tables.reset_clients)
    return created


@pytest.fixture
def saga(deployed_pattern: Any) -> Iterator[Any]:
    """The deployed saga with empty tables, no faults, and retry intervals recorded not slept."""
    import logging

    from sfn_saga_e2e import Saga

    # failed executions make moto's interpreter log whole states; the history has what we need
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    driver = Saga(deployed_pattern("stepfunctions-saga"))
    driver.reset()
    recording = driver.aws.record_retry_sleeps
    driver.aws.record_retry_sleeps = True
    driver.aws.retry_sleeps.clear()
    driver.aws.invocations.clear()
    yield driver
    driver.aws.faults.clear()
    driver.aws.record_retry_sleeps = recording
