"""The import contracts (catalog.contracts, run by `catalog lint`): the layers run one way (CLI over
deploy over drivers over the embedded AWS, which imports nothing from the drivers) and shared/
imports no pattern. They hold here, and a deliberately broken copy of the catalog breaks all three."""

from __future__ import annotations

import shutil
from pathlib import Path

from catalog import contracts
from catalog.lint import lint
from catalog.patterns import discover

ROOT = Path(__file__).resolve().parents[2]


def test_every_pattern_is_in_the_contract() -> None:
    modules = contracts.pattern_modules(ROOT)
    for pattern in discover():
        assert any((pattern.root / "src" / m).is_dir() for m in modules), pattern.name
        helpers = [p.stem for p in (pattern.root / "tests").glob("*.py") if p.stem != "conftest"]
        assert set(helpers) <= set(modules)


def test_contracts_are_kept_and_the_lint_step_runs_them() -> None:
    (result,) = lint(ROOT, ["imports"])
    assert result.ok, result.output
    assert "Contracts: 3 kept, 0 broken." in result.output


def test_a_broken_copy_breaks_them(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "shared" / "catalog", copy / "catalog")
    upward = copy / "catalog" / "localaws" / "filters.py"
    upward.write_text(upward.read_text() + "\nfrom ..drivers import base  # noqa\n")
    pattern = contracts.pattern_modules(ROOT)[0]
    index = copy / "catalog" / "index.py"
    index.write_text(index.read_text() + f"\nimport {pattern}  # noqa\n")
    ok, output = contracts.check(ROOT, contracts.write_config(ROOT, tmp_path), python_path=copy)
    assert not ok, output
    assert "Contracts: 0 kept, 3 broken." in output
    assert "catalog.localaws.filters -> catalog.drivers.base" in output
    assert f"catalog.index -> {pattern}" in output
