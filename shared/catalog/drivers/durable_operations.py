"""The operations of a durable execution as a report shows them: steps with attempts, the
compensations metadata names, and the virtual time the execution spanned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .base import ReportSpec, StepRecord


def short_error_name(error_type: str | None) -> str | None:
    """`pkg.errors.OutOfStockError` -> `OutOfStockError`; `Sandbox.Timedout` stays whole."""
    if not error_type:
        return None
    head, _, tail = error_type.rpartition(".")
    if head and head[:1].isupper() and "." not in head:
        return error_type
    return tail


def _children(op: Any) -> list[Any]:
    return list(getattr(op, "child_operations", None) or [])


def _type_name(op: Any) -> str:
    return str(getattr(op.operation_type, "value", op.operation_type))


def attempts_of(op: Any) -> int:
    """Steps count their own attempts; a child context holding invokes counts the invokes."""
    kind = _type_name(op)
    if kind == "STEP":
        return max(int(getattr(op, "attempt", 0) or 0), 1)
    invokes = [c for c in _children(op) if _type_name(c) == "CHAINED_INVOKE"]
    return max(len(invokes), 1)


def step_record(op: Any, report: ReportSpec) -> StepRecord:
    kind = _type_name(op)
    name = str(op.name or op.operation_id)
    ok = str(getattr(op.status, "value", op.status)) == "SUCCEEDED"
    if report.is_compensation(name):
        step_kind = "compensation"
    elif kind == "WAIT":
        step_kind = "wait"
    elif kind == "CHAINED_INVOKE" or any(_type_name(c) == "CHAINED_INVOKE" for c in _children(op)):
        step_kind = "invoke"
    else:
        step_kind = "step"
    return StepRecord(name, step_kind, attempts_of(op), ok)  # type: ignore[arg-type]


def describe_operation(op: Any) -> dict[str, Any]:
    return {
        "name": op.name,
        "type": _type_name(op),
        "status": str(getattr(op.status, "value", op.status)),
        "attempts": attempts_of(op),
        "started": op.start_timestamp.isoformat() if op.start_timestamp else None,
        "ended": op.end_timestamp.isoformat() if op.end_timestamp else None,
        "error": short_error_name(op.error.type) if getattr(op, "error", None) else None,
        "children": [describe_operation(c) for c in _children(op)],
    }


def virtual_seconds(operations: list[dict[str, Any]]) -> float:
    stamps = [
        datetime.fromisoformat(s)
        for op in operations
        for s in (op["started"], op["ended"])
        if s is not None
    ]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0
