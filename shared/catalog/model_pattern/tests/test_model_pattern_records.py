"""The put-record handler: validation, one write per id."""

from __future__ import annotations

from typing import Any

import pytest
from model_pattern.functions import put_record
from model_pattern.records import InvalidRecordError


def test_a_valid_record_is_stored(records_table: Any) -> None:
    result = put_record.handler({"id": "record-1", "value": "hello"}, None)
    assert result == {"record": {"id": "record-1", "value": "hello"}, "created": True}
    assert records_table.get_item(Key={"id": "record-1"})["Item"]["value"] == "hello"


def test_a_repeated_record_is_stored_once(records_table: Any) -> None:
    put_record.handler({"id": "record-1", "value": "first"}, None)
    again = put_record.handler({"id": "record-1", "value": "second"}, None)
    assert again == {"record": {"id": "record-1", "value": "first"}, "created": False}
    assert records_table.scan()["Count"] == 1


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "JSON object"),
        ({"value": "x"}, "id must be"),
        ({"id": " ", "value": "x"}, "id must be"),
        ({"id": "record-1", "value": 3}, "value must be"),
    ],
)
def test_invalid_input_is_rejected_before_any_write(
    records_table: Any, event: Any, reason: str
) -> None:
    with pytest.raises(InvalidRecordError, match=reason):
        put_record.handler(event, None)
    assert records_table.scan()["Count"] == 0
