"""The import contracts, checked by import-linter (`catalog lint`, step `imports`).

Two live in pyproject.toml ([tool.importlinter]): the layers run one way (the CLI over `deploy`
over `drivers` over `localaws`), and `localaws` imports nothing from `drivers`. The third, that
the catalog's tooling imports no pattern, is built here from the patterns found: a pattern's
modules are top-level (its Lambda package in src/, the helper modules of its tests/), so a new
pattern is covered without a change outside its folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONTRACT_TABLE = "[tool.importlinter]"


def pattern_modules(root: Path) -> list[str]:
    """Top-level module names that belong to a pattern of the repository at `root`."""
    names: set[str] = set()
    for pattern in sorted((root / "patterns").glob("*/")):
        names |= {p.parent.name for p in (pattern / "src").glob("*/__init__.py")}
        names |= {p.stem for p in (pattern / "tests").glob("*.py") if p.stem != "conftest"}
    return sorted(names)


def write_config(root: Path, folder: Path) -> Path:
    """pyproject's contracts plus the one forbidding every pattern module to the catalog."""
    own = (root / "pyproject.toml").read_text().split(f"\n{CONTRACT_TABLE}\n", 1)[1]
    forbidden = ", ".join(f'"{name}"' for name in pattern_modules(root))
    config = folder / "import-contracts.toml"
    config.write_text(
        f"{CONTRACT_TABLE}\n{own}\n[[tool.importlinter.contracts]]\n"
        'name = "shared/ imports no pattern"\ntype = "forbidden"\n'
        f'source_modules = ["catalog"]\nforbidden_modules = [{forbidden}]\n'
    )
    return config


def check(root: Path, config: Path, python_path: Path | None = None) -> tuple[bool, str]:
    """Run lint-imports on `config` (`python_path` first on the path: a copy of the catalog)."""
    env = dict(os.environ)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--config", str(config), "--no-cache"],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()
