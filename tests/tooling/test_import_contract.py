"""The import contracts (import-linter): the layers run one way (CLI over deploy over drivers over
the embedded AWS, which imports nothing from the drivers; both in pyproject.toml), and shared/
imports no pattern. A pattern's modules are top-level (its Lambda package in src/, the helper
modules of its tests/), so the second contract is built from the patterns found, and a new
pattern is covered without a change outside its folder. A broken copy proves both can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from catalog.patterns import discover

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def pattern_modules() -> list[str]:
    names = set()
    for pattern in discover():
        src = pattern.root / "src"
        names |= {p.parent.name for p in src.glob("*/__init__.py")}
        names |= {p.stem for p in (pattern.root / "tests").glob("*.py") if p.stem != "conftest"}
    return sorted(names)


def _config(folder: Path) -> Path:
    """pyproject's contracts plus one forbidding every pattern module to the catalog."""
    config = folder / "contracts.toml"
    own = (ROOT / "pyproject.toml").read_text().split("[tool.importlinter]", 1)[1]
    forbidden = ", ".join(f'"{name}"' for name in pattern_modules())
    config.write_text(
        "[tool.importlinter]"
        + own
        + "\n[[tool.importlinter.contracts]]\n"
        + 'name = "shared/ imports no pattern"\n'
        + 'type = "forbidden"\n'
        + 'source_modules = ["catalog"]\n'
        + f"forbidden_modules = [{forbidden}]\n"
    )
    return config


def _lint(config: Path, python_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)  # before the installed catalog
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=env,
        timeout=120,
    )


def test_every_pattern_is_named_in_the_contract() -> None:
    modules = pattern_modules()
    for pattern in discover():
        assert any((pattern.root / "src" / m).is_dir() for m in modules), pattern.name


def test_contracts_are_kept(tmp_path: Path) -> None:
    result = _lint(_config(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_broken_copy_breaks_them(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "shared" / "catalog", copy / "catalog")
    layer_break = copy / "catalog" / "localaws" / "filters.py"
    layer_break.write_text(layer_break.read_text() + "\nfrom ..drivers import base  # noqa\n")
    pattern = pattern_modules()[0]
    (copy / "catalog" / "index.py").write_text(
        (copy / "catalog" / "index.py").read_text() + f"\nimport {pattern}  # noqa\n"
    )
    result = _lint(_config(tmp_path), python_path=copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 3 broken." in result.stdout
    assert "catalog.localaws.filters -> catalog.drivers.base" in result.stdout
    assert f"catalog.index -> {pattern}" in result.stdout
