"""put-record: validates the input and stores it in the records table, once per id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from ..records import save, validate

logger = Logger()


def handler(event: Any, context: Any) -> dict[str, Any]:
    result = save(validate(event))
    logger.info(
        "record stored",
        extra={"record_id": result["record"]["id"], "new_record": result["created"]},
    )
    return result
