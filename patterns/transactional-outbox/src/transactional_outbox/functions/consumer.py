"""consumer: SQS queue (fed by the EventBridge rule) -> the ledger, each event once in effect.

Powertools batch processing parses every message with `OrderEventMessage` (SQS record whose body is
the EventBridge event) and reports the failures only (`batchItemFailures`): the other messages of
the batch are deleted, the failed ones come back after the visibility timeout and move to the DLQ
after `maxReceiveCount` receives. A message that does not parse fails the same way.
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

from .. import ledger
from ..models import OrderEventMessage

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, model=OrderEventMessage)


def record_handler(record: OrderEventMessage) -> None:
    detail = record.body.detail
    applied = ledger.apply_order_created(detail, record.messageId)
    logger.info(
        "event applied" if applied else "duplicate event ignored",
        extra={
            "event_id": detail.event_id,
            "order_id": detail.order_id,
            "message_id": record.messageId,
        },
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
