"""Every pattern's Pulumi program (the shared conftest parametrizes `pattern`): no sys.path edits, its requirements.txt installs every package
it imports, and the shared settings helper reads its config."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from catalog.patterns import Pattern


def _sources(program_dir: Path) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text()) for path in sorted(program_dir.glob("*.py"))}


def _requirements(program_dir: Path) -> tuple[set[str], set[str]]:
    """(distribution names, modules of local path requirements) from requirements.txt."""
    names, local_modules = set(), set()
    for raw in (program_dir / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-e "):
            project = tomllib.loads(
                (program_dir / line.removeprefix("-e ").strip() / "pyproject.toml").read_text()
            )
            packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
            local_modules |= {Path(package).name for package in packages}
        elif line:
            names.add(line.split("==")[0].split(">=")[0].strip().lower().replace("_", "-"))
    return names, local_modules


def test_programs_never_touch_sys_path(pattern: Pattern) -> None:
    for path, tree in _sources(pattern.pulumi_dir).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path":
                assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), path


def test_requirements_install_every_import(pattern: Pattern) -> None:
    local = {p.stem for p in pattern.pulumi_dir.glob("*.py")}
    imported = set()
    for tree in _sources(pattern.pulumi_dir).values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - local - set(sys.stdlib_module_names) - {"__future__"}
    owners = packages_distributions()
    required, local_packages = _requirements(pattern.pulumi_dir)
    for module in sorted(third_party - local_packages):
        providers = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        assert providers & required, (
            f"{pattern.name}: {module} ({providers}) not in requirements.txt"
        )
    assert {"catalog", "catalog_pulumi", "pulumi"} <= third_party


def test_programs_read_settings_through_the_helper(pattern: Pattern) -> None:
    main = (pattern.pulumi_dir / "__main__.py").read_text()
    assert "pattern_settings(" in main
    for path in pattern.pulumi_dir.glob("*.py"):
        text = path.read_text()
        assert "pulumi.Config(" not in text and "namePrefix" not in text.split('"""', 2)[-1], path
