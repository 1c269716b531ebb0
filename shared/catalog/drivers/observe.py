"""What every driver observes after a run: table rows as plain values, and the rows of one run.

Which tables and which link keys come from the pattern's metadata (`catalog.report`, see
`base.ReportSpec`); nothing here knows a pattern's domain.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from .base import DriverContext

Rows = dict[str, list[dict[str, Any]]]
MAX_LINK_ROUNDS = 4


def plain(value: Any) -> Any:
    """DynamoDB values as JSON-friendly Python: Decimal -> int or float, sets -> sorted lists,
    binary -> base64 text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    return value


def _plain_rows(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items as the DynamoDB API returns them (typed attribute values), as plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return [plain({k: deserializer.deserialize(v) for k, v in i.items()}) for i in items]


def table_rows(ctx: DriverContext, tables: Iterable[str] | None = None) -> Rows:
    """Every row of the deployed tables (`table_names` output), by logical name, as plain values;
    `tables` limits it to those logical names."""
    names: Mapping[str, str] = ctx.outputs.get("table_names") or {}
    wanted = set(names) if tables is None else set(tables) & set(names)
    dynamodb = ctx.client("dynamodb")
    rows: Rows = {}
    for logical in sorted(wanted):
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=names[logical]):
            items += _plain_rows(page["Items"])
        rows[logical] = items
    return rows


def rows_by_key(
    ctx: DriverContext, logical: str, key: str, values: Iterable[str]
) -> list[dict[str, Any]]:
    """The rows of one deployed table whose string hash key `key` is one of `values`, as plain
    values (BatchGetItem, strongly consistent: 100 keys a call, unprocessed keys asked again).
    What a check of one run's own rows reads instead of scanning the whole table."""
    table = (ctx.outputs.get("table_names") or {})[logical]
    dynamodb = ctx.client("dynamodb")
    wanted = sorted(set(values))
    items: list[dict[str, Any]] = []
    for start in range(0, len(wanted), 100):
        keys = [{key: {"S": value}} for value in wanted[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            items += answer["Responses"].get(table, [])
            request = answer.get("UnprocessedKeys") or {}
    return _plain_rows(items)


def related_rows(rows: Rows, seeds: Iterable[str], link_keys: Iterable[str] = ()) -> Rows:
    """The rows of one run: rows that mention a seed (an identifier of the run, found in any
    string of the row, JSON strings included), then, round after round, rows whose top-level
    attribute `key` equals a value the related rows hold under `key` (at any depth), for each
    link key."""
    needles = {s for s in seeds if s}
    keys = tuple(link_keys)
    related: Rows = {logical: [] for logical in rows}
    linked: dict[str, set[str]] = {key: set() for key in keys}
    for _ in range(MAX_LINK_ROUNDS):
        grew = False
        for logical, items in rows.items():
            for item in items:
                if item in related[logical]:
                    continue
                if _mentions(item, needles) or any(
                    str(item.get(key)) in linked[key] for key in keys if key in item
                ):
                    related[logical].append(item)
                    grew = True
        for key in keys:
            linked[key] |= {
                str(v) for items in related.values() for i in items for v in values_at(i, key)
            }
        if not grew:
            break
    return related


def _mentions(item: Mapping[str, Any], needles: set[str]) -> bool:
    return any(n in s for s in strings(item) for n in needles)


def values_at(value: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key`, at any depth."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            if name == key and not isinstance(item, Mapping | list):
                yield item
            yield from values_at(item, key)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from values_at(item, key)


def strings(value: Any) -> Iterator[str]:
    """Every string in a value; a string holding JSON is searched too."""
    if isinstance(value, str):
        yield value
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        if not isinstance(parsed, str):
            yield from strings(parsed)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from strings(item)


def identifiers(value: Any) -> set[str]:
    """The identifier-like strings of a value: at least six characters, no whitespace, with a
    digit or a separator. "EUR" or "CREATED" would select every run's rows."""
    return {s for s in strings(value) if _identifier_like(s)}


def _identifier_like(value: str) -> bool:
    return (
        len(value) >= 6
        and not any(c.isspace() for c in value)
        and any(c.isdigit() or c in "-_#:" for c in value)
    )


def json_or_text(text: Any) -> Any:
    """A string holding JSON as its value; anything else unchanged."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
