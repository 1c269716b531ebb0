"""Records kept in the pattern's table: validated input, one conditional write per record."""

from __future__ import annotations

import os
from typing import Any

import boto3

TABLE_ENV = "RECORDS_TABLE"


class InvalidRecordError(ValueError):
    """The input is not a record: the message names every problem."""


def validate(event: Any) -> dict[str, str]:
    problems = []
    if not isinstance(event, dict):
        raise InvalidRecordError("the input must be a JSON object")
    record_id, value = event.get("id"), event.get("value")
    if not isinstance(record_id, str) or not record_id.strip():
        problems.append("id must be a non-empty string")
    if not isinstance(value, str):
        problems.append("value must be a string")
    if problems:
        raise InvalidRecordError("; ".join(problems))
    return {"id": record_id, "value": value}


def save(record: dict[str, str], table: Any = None) -> dict[str, Any]:
    """Write the record once: a repeated call with the same id returns the stored record."""
    table = table or boto3.resource("dynamodb").Table(os.environ[TABLE_ENV])
    try:
        table.put_item(Item=record, ConditionExpression="attribute_not_exists(id)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        stored = table.get_item(Key={"id": record["id"]}, ConsistentRead=True)["Item"]
        return {"record": stored, "created": False}
    return {"record": record, "created": True}
