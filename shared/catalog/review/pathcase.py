"""Exact-case path resolution: Lambda builds run on case-sensitive Linux, laptops often do not."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Resolved:
    status: str  # "ok" | "case" (exists with other casing) | "missing"
    actual: str = ""  # the on-disk spelling when status == "case" (same form as the input)


@lru_cache(maxsize=4096)
def _listing(directory: str) -> tuple[str, ...]:
    try:
        return tuple(os.listdir(directory))
    except OSError:
        return ()


def resolve(base: Path, rel: str) -> Resolved:
    """Check `rel` (posix, may hold `..`) below `base` segment by segment, with exact case."""
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    current = str(base)
    actual: list[str] = []
    mismatch = False
    for part in parts:
        if part == "..":
            current = os.path.dirname(current)
            actual.append(part)
            continue
        names = _listing(current)
        if part in names:
            chosen = part
        else:
            lowered = [n for n in names if n.lower() == part.lower()]
            if not lowered:
                return Resolved("missing")
            chosen, mismatch = lowered[0], True
        actual.append(chosen)
        current = os.path.join(current, chosen)
    if not os.path.exists(current):
        return Resolved("missing")
    return Resolved("case", "/".join(actual)) if mismatch else Resolved("ok")


def clear() -> None:
    _listing.cache_clear()
