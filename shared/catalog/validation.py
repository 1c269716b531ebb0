"""Checks that run before any resource exists: `cycle`, `run`, `up` and `catalog validate` share them.

Nothing here deploys, imports pattern code or starts a process: metadata against its schema,
every scenario (catalog.scenarios.check_scenarios), and the Terraform and Pulumi code parses.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .metadata import Problem, validate_metadata
from .patterns import METADATA_FILE
from .scenarios import check_scenarios, parse_hcl


def preflight(pattern_root: Path) -> list[Problem]:
    """Every problem that would make a deploy of this pattern fail or test nothing."""
    return [
        *validate_metadata(pattern_root / METADATA_FILE),
        *check_scenarios(pattern_root),
        *terraform_parse_problems(pattern_root / "terraform"),
        *pulumi_parse_problems(pattern_root / "pulumi"),
    ]


def terraform_parse_problems(terraform_dir: Path) -> list[Problem]:
    if not terraform_dir.is_dir():
        return []
    problems = []
    for path in sorted(terraform_dir.glob("*.tf")):
        try:
            parse_hcl(path.read_text())
        except Exception as exc:  # python-hcl2 raises lark errors of several types
            line = getattr(exc, "line", None)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(
                Problem("terraform.parse", path, line, f"Terraform does not parse: {first}")
            )
    return problems


def pulumi_parse_problems(pulumi_dir: Path) -> list[Problem]:
    if not pulumi_dir.is_dir():
        return []
    problems = []
    for path in sorted(pulumi_dir.rglob("*.py")):
        try:
            ast.parse(path.read_text(), filename=str(path))
        except SyntaxError as exc:
            problems.append(
                Problem("pulumi.parse", path, exc.lineno, f"Python does not parse: {exc.msg}")
            )
    return problems
