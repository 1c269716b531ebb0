"""Build pattern folders from the review's test fixtures (used by the tests and the benchmark).

A case (`tests/review/fixtures/defects/<case>/case.json`) names a clean base pattern
(`tests/review/fixtures/bases/<base>/`) and the smallest change that introduces one defect.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "review" / "fixtures"
CATALOG_BASES = frozenset({"catalog-orders"})  # bases that follow this catalog's conventions


def load_case(name: str, fixtures: Path = FIXTURES) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures / "defects" / name / "case.json").read_text())
    return data


def cases(fixtures: Path = FIXTURES) -> list[str]:
    return sorted(p.name for p in (fixtures / "defects").iterdir() if (p / "case.json").is_file())


def materialise(
    spec: dict[str, Any],
    parent: Path,
    *,
    name: str | None = None,
    fixtures: Path = FIXTURES,
    nest_catalog: bool = True,
) -> Path:
    """Copy the case's base below `parent` and apply the change; catalog bases go in `patterns/`
    (so they are reviewed with this catalog's conventions) unless `nest_catalog` is False."""
    base = spec["base"]
    if nest_catalog and (spec.get("flavour") == "catalog" or base in CATALOG_BASES):
        parent = parent / "patterns"
    parent.mkdir(parents=True, exist_ok=True)
    target = parent / (name or spec.get("rename") or base)
    shutil.copytree(fixtures / "bases" / base, target)
    for rel in spec.get("delete", []):
        (target / rel).unlink()
    for rel, old, new in spec.get("replace", []):
        path = target / rel
        text = path.read_text()
        if old not in text:
            raise ValueError(f"case change does not apply: {old!r} not in {rel}")
        path.write_text(text.replace(old, new, 1))
    for rel, content in spec.get("create", {}).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            path.write_bytes(base64.b64decode(content["base64"]))
        else:
            path.write_text(content)
    return target
