"""What the handler tests share with their fixture: the unit tables, the Lambda context and the
stack `unit_aws` builds. A module of its own, not conftest: `from conftest import` would find
whichever pattern's conftest was imported first when several patterns' tests run together."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from catalog.localaws import LambdaContext

TABLE_KEYS = {"readings": "message_id", "sensor_totals": "sensor_id"}
READINGS, TOTALS = "unit-readings", "unit-sensor-totals"
MAX_RECEIVE_COUNT = 3

# What Powertools reads from the Lambda context, as the embedded AWS's invoker sets it.
FakeLambdaContext = functools.partial(LambdaContext.for_function, "sqs-batch-processing-unit", 256)


@dataclass
class UnitAws:
    dynamodb: Any
    sqs: Any
    source_url: str
    source_arn: str
    dlq_url: str
