"""Fixtures of the sqs-batch-processing tests.

Handler tests (`test_batch_handlers.py`) import the functions from src/ and run them in-process
against moto (`unit_aws`). End-to-end tests deploy the Terraform root to the embedded AWS once per
session (`deployed_pattern` from the catalog plugin) and send messages with the catalog's `queue`
driver; the deployed event-source mapping runs when the embedded AWS settles.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from catalog.moto_fixtures import InProcessAws

PATTERN = "sqs-batch-processing"
SRC_DIR = Path(__file__).resolve().parents[1] / "src"
TESTS_DIR = Path(__file__).resolve().parent
# --import-mode=importlib puts neither folder on sys.path: the functions' package
# (`sqs_batch_processing`) and the helper modules next to this file (`batch_e2e`, `batch_units`).
for folder in (SRC_DIR, TESTS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from batch_units import MAX_RECEIVE_COUNT, TABLE_KEYS, UnitAws  # noqa: E402 (needs the path)


@pytest.fixture
def unit_aws(moto_aws: InProcessAws, monkeypatch: pytest.MonkeyPatch) -> UnitAws:
    """moto in-process (`moto_aws`): both tables, the source queue and its DLQ; the functions'
    env set."""
    from sqs_batch_processing import sdk

    sdk.client.cache_clear()
    moto_aws.on_teardown(sdk.client.cache_clear)
    moto_aws.tables(TABLE_KEYS, prefix="unit")  # READINGS and TOTALS
    dlq_url, dlq_arn = moto_aws.queue("unit-readings-dlq")
    source_url, source_arn = moto_aws.queue("unit-readings", (dlq_arn, MAX_RECEIVE_COUNT))
    for name, value in {
        "DLQ_URL": dlq_url,
        "SOURCE_QUEUE_URL": source_url,
    }.items():
        monkeypatch.setenv(name, value)
    return UnitAws(
        moto_aws.client("dynamodb"), moto_aws.client("sqs"), source_url, source_arn, dlq_url
    )


@pytest.fixture(scope="session")
def batch_stack(deployed_pattern: Any) -> Any:
    """The pattern deployed with Terraform to the embedded AWS."""
    return deployed_pattern(PATTERN)
