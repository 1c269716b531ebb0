"""Helpers of the review tests, as the `kit` fixture (the suite runs with --import-mode=importlib).

A defect case (`fixtures/defects/<case>/case.json`) names a clean base pattern (`fixtures/bases/`)
and the smallest change that introduces exactly one defect: text replacements, deletions, and
files created at test time (junk such as .vscode/ or *.tfstate is never committed here); see
`catalog.review.fixtures`, which the benchmark uses too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.review import fixtures

FIXTURES = Path(__file__).parent / "fixtures"
BASES = FIXTURES / "bases"
DEFECTS = FIXTURES / "defects"


def load_case(name: str) -> dict[str, Any]:
    return fixtures.load_case(name, FIXTURES)


def materialise(spec: dict[str, Any], tmp_path: Path) -> Path:
    """Copy the case's base into tmp_path (`work/` or `patterns/`) and apply the case's change."""
    parent = (
        tmp_path
        if spec.get("flavour") == "catalog" or spec["base"] in fixtures.CATALOG_BASES
        else tmp_path / "work"
    )
    return fixtures.materialise(spec, parent, fixtures=FIXTURES)


def base_pattern(name: str, tmp_path: Path) -> Path:
    return materialise({"base": name}, tmp_path)


def triples(report: Any, root: Path) -> list[tuple[str, str, int | None]]:
    """(rule, path relative to the pattern, line) of every finding, sorted.

    The review must have run with `cwd=root`, so displayed paths are relative to the pattern.
    """
    out = []
    for f in report.findings:
        path = Path(f.path)
        path = path if path.is_absolute() else root / path
        rel = os.path.relpath(path, root)
        out.append((f.rule, rel.replace(os.sep, "/"), f.line))
    return sorted(out, key=lambda t: (t[0], t[1], t[2] or 0))


class Kit:
    """What the review tests share (a fixture, so test modules import nothing from here)."""

    fixtures = FIXTURES
    bases = BASES
    defects = DEFECTS
    load_case = staticmethod(load_case)
    materialise = staticmethod(materialise)
    base_pattern = staticmethod(base_pattern)
    triples = staticmethod(triples)


@pytest.fixture
def kit() -> Kit:
    return Kit()


@pytest.fixture(autouse=True, scope="session")
def _review_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """cfn-lint results are cached per user; the tests use a cache of their own."""
    previous = os.environ.get("CATALOG_REVIEW_CACHE")
    os.environ["CATALOG_REVIEW_CACHE"] = str(tmp_path_factory.mktemp("review-cache"))
    yield
    if previous is None:
        os.environ.pop("CATALOG_REVIEW_CACHE", None)
    else:
        os.environ["CATALOG_REVIEW_CACHE"] = previous
