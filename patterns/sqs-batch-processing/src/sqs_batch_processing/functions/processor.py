"""processor: the source queue's consumer, a batch of up to 10 readings per invocation.

Powertools' BatchProcessor parses every record with `ReadingMessage` and answers with the failed
records only (`batchItemFailures`; the event-source mapping has ReportBatchItemFailures): Lambda
deletes the others, and only the failed ones come back after the visibility timeout, to be parked
in the dead-letter queue after maxReceiveCount receives. A body that does not parse fails the
same way.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..ledger import apply_reading
from ..readings import ReadingMessage

logger = Logger()  # service name and level: POWERTOOLS_SERVICE_NAME / _LOG_LEVEL from the IaC
processor = BatchProcessor(event_type=EventType.SQS, model=ReadingMessage)


def record_handler(record: ReadingMessage) -> None:
    key = record.idempotency_key
    applied = apply_reading(record.body, key, record.messageId)
    logger.info(
        "reading applied" if applied else "duplicate delivery, already applied",
        extra={
            "idempotency_key": key,
            "message_id": record.messageId,
            "sensor_id": record.body.sensor_id,
            "receive_count": record.attributes.ApproximateReceiveCount,
        },
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
