"""The message contract: an SQS message whose body is one sensor reading (JSON).

A body that does not match `Reading` fails its record (Powertools reports it in
`batchItemFailures`); after the queue's maxReceiveCount receives it is parked in the dead-letter
queue, where an operator can read it. `ORIGINAL_ID_ATTRIBUTE` is set by the redrive function:
the message id of the first delivery, which stays the idempotency key of a redriven copy.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json

ORIGINAL_ID_ATTRIBUTE = "OriginalMessageId"


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensor_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
    metric: Literal["temperature", "humidity", "pressure"]
    # Finite and bounded: DynamoDB numbers hold 38 digits; NaN and infinity are not readings.
    value: Annotated[Decimal, Field(allow_inf_nan=False, ge=-1_000_000, le=1_000_000)]
    taken_at: datetime


class ReadingMessage(SqsRecordModel):
    body: Json[Reading]  # type: ignore[assignment]  # the body is parsed, not kept as text

    @property
    def idempotency_key(self) -> str:
        """The id of the message's first delivery: its own id, or for a redriven copy the id
        the redrive function carried over."""
        original = self.messageAttributes.get(ORIGINAL_ID_ATTRIBUTE)
        if original is not None and original.stringValue:
            return original.stringValue
        return self.messageId
