"""Event-source filter criteria, matched as Lambda matches them.

Lambda's `FilterCriteria` use the EventBridge event-pattern grammar (exact values, prefix, suffix,
numeric ranges, anything-but, exists, wildcard, `$or`), so this module hands each pattern to moto's
own matcher (`moto.events.models.EventPattern`) instead of re-implementing it. What is matched is
the record as the function would receive it; for SQS, a body that is a JSON object is matched as
that object (AWS semantics: "if the body is valid JSON, filters apply to its fields").
A record matches when any one filter of the mapping matches (filters are OR-ed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

RecordFilter = Callable[[Mapping[str, Any]], bool]


class FilterCriteriaError(ValueError):
    """A mapping's filter pattern is not valid event-pattern JSON."""


def record_filter(filter_criteria: Mapping[str, Any] | None) -> RecordFilter:
    """The predicate of a mapping's `FilterCriteria` (no filters: every record matches)."""
    from moto.events.models import EventPattern

    patterns = []
    for entry in (filter_criteria or {}).get("Filters") or []:
        raw = str(entry.get("Pattern") or "")
        try:
            patterns.append(EventPattern.load(raw))
        except Exception as exc:  # moto raises its own HTTP-shaped exception class
            raise FilterCriteriaError(f"filter pattern {raw!r} is not valid: {exc}") from exc
    if not patterns:
        return lambda record: True

    def matches(record: Mapping[str, Any]) -> bool:
        view = _filter_view(record)
        return any(pattern.matches_event(view) for pattern in patterns)

    return matches


def _filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    view = dict(record)
    body = view.get("body")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return view
        if isinstance(parsed, dict):
            view["body"] = parsed
    return view
