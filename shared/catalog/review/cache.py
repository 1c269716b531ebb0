"""Results cache of the review: JSON files keyed by a hash of tool version and input.

Linters and parsers are pure functions of their input, so cached results are exact. Location:
`$CATALOG_REVIEW_CACHE`, else `$XDG_CACHE_HOME/catalog-review`, else `~/.cache/catalog-review`;
an empty `CATALOG_REVIEW_CACHE` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
from functools import cache
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    base = os.environ.get("CATALOG_REVIEW_CACHE")
    if base == "":
        return None
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "catalog-review")
    return Path(base)


@cache
def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def get(kind: str, digest: str) -> Any:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        return json.loads((directory / f"{kind}-{digest}.json").read_text())
    except (OSError, ValueError):
        return None


def put(kind: str, digest: str, value: Any) -> None:
    directory = cache_dir()
    if directory is None:
        return
    with contextlib.suppress(OSError, TypeError, ValueError):
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{kind}-{digest}.json"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(target)
