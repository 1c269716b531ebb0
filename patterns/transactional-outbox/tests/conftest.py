"""Fixtures of the transactional-outbox tests.

Unit tests (`test_outbox_handlers.py`) import the handlers from src/ and run them in-process against
moto (`aws` fixture). End-to-end tests deploy the Terraform root to the embedded AWS once per session
(`deployed_pattern` from the catalog plugin) and drive it with the catalog's `http_api` driver.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog.localaws import LambdaContext
from catalog.moto_fixtures import InProcessAws

PATTERN = "transactional-outbox"
PATTERN_DIR = Path(__file__).resolve().parents[1]
SRC_DIR = PATTERN_DIR / "src"
TESTS_DIR = Path(__file__).resolve().parent
# --import-mode=importlib puts neither folder on sys.path: the handlers' package
# (`transactional_outbox`) and the helper modules next to this file (`outbox_*`).
for folder in (SRC_DIR, TESTS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

TABLES = {
    "orders": ("unit-orders", "order_id"),
    "outbox": ("unit-outbox", "event_id"),
    "idempotency": ("unit-idempotency", "id"),
    "ledger": ("unit-ledger", "pk"),
}
ENVIRONMENT = {
    "ORDERS_TABLE": TABLES["orders"][0],
    "OUTBOX_TABLE": TABLES["outbox"][0],
    "IDEMPOTENCY_TABLE": TABLES["idempotency"][0],
    "LEDGER_TABLE": TABLES["ledger"][0],
    "EVENT_BUS_NAME": "unit-orders-bus",
    "EVENT_SOURCE": "transactional-outbox.orders",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# What Powertools reads from the Lambda context, as the embedded AWS's invoker sets it.
FakeLambdaContext = functools.partial(LambdaContext.for_function, "transactional-outbox-unit", 256)


@dataclass
class UnitAws:
    dynamodb: Any
    events: Any
    sqs: Any
    streams: Any
    queue_url: str


@pytest.fixture
def aws(moto_aws: InProcessAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[UnitAws]:
    """moto in-process (`moto_aws`): the four tables, the bus, a rule to a queue; handler env set."""
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    from transactional_outbox import clients

    from catalog.localaws.patching import Patches
    from catalog.localaws.shims import install_events_envelope_account

    clients._clients.clear()
    moto_aws.on_teardown(clients._clients.clear)
    for logical, (name, key) in TABLES.items():
        moto_aws.table(name, key, "NEW_IMAGE" if logical == "outbox" else None)
    queue_url, queue_arn = moto_aws.queue("unit-events")
    moto_aws.bus_to_queue(ENVIRONMENT["EVENT_BUS_NAME"], ENVIRONMENT["EVENT_SOURCE"], queue_arn)
    # In-process moto lacks the embedded AWS's shims; this test needs the EventBridge envelope one.
    patches = Patches()
    install_events_envelope_account(patches)
    try:
        yield UnitAws(
            *(moto_aws.client(s) for s in ("dynamodb", "events", "sqs", "dynamodbstreams")),
            queue_url,
        )
    finally:
        patches.undo_all()


# ---------------------------------------------------------------- end to end (embedded AWS)


@pytest.fixture(scope="session")
def outbox_stack(deployed_pattern: Any) -> Any:
    """The pattern deployed with Terraform to the embedded AWS; its stream and queue mappings run
    when the embedded AWS settles (catalog.localaws.event_sources)."""
    return deployed_pattern(PATTERN)
