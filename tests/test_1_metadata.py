"""1. Metadata: every pattern's example-pattern.json, and the model at the top, validate."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from catalog.metadata import PUBLIC_SCHEMA, validate_metadata
from catalog.packaging import find_package, function_specs
from catalog.patterns import METADATA_FILE, REPO_ROOT, Pattern
from catalog.testing import plant


def test_pattern_metadata_is_valid(pattern: Pattern) -> None:
    problems = validate_metadata(pattern.root / METADATA_FILE)
    assert not problems, "\n".join(f"{p.line}: {p.message}" for p in problems)


def test_pattern_metadata_is_valid_for_the_public_catalogue(pattern: Pattern) -> None:
    assert validate_metadata(pattern.root / METADATA_FILE, schema=PUBLIC_SCHEMA) == []


def test_the_model_at_the_top_validates() -> None:
    assert validate_metadata(REPO_ROOT / METADATA_FILE) == []


def handler_problems(pattern_dir: Path) -> list[str]:
    """Every function module defines the `handler(event, context)` its deployments name."""
    package = find_package(pattern_dir / "src")
    problems = []
    for spec in function_specs(pattern_dir):
        path = package / "functions" / f"{spec.module}.py"
        handler = next(
            (
                node
                for node in ast.parse(path.read_text()).body
                if isinstance(node, ast.FunctionDef) and node.name == "handler"
            ),
            None,
        )
        if handler is None or len(handler.args.args) != 2:
            problems.append(f"{spec.name}: {path.name} has no handler(event, context)")
    return problems


def test_pattern_functions_are_python_handlers(pattern: Pattern) -> None:
    # The metadata says Python (the schema holds "language" to it); the code must match.
    assert pattern.functions, (
        "a pattern has at least one Lambda function in src/<package>/functions/"
    )
    assert handler_problems(pattern.root) == []


def _broken_copy(pattern: Pattern, tmp_path: Path, edit: dict) -> Path:
    target = tmp_path / "patterns" / pattern.name
    shutil.copytree(pattern.root, target, ignore=shutil.ignore_patterns("build", "__pycache__"))
    data = json.loads((target / METADATA_FILE).read_text())
    for dotted, value in edit.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    (target / METADATA_FILE).write_text(json.dumps(data, indent=2))
    return target / METADATA_FILE


def test_metadata_check_catches_schema_breaks(pattern: Pattern, tmp_path: Path) -> None:
    path = _broken_copy(
        pattern,
        tmp_path,
        {
            "title": "x" * 76,
            "language": "TypeScript",
            "gitHub.template.templateFile": f"{pattern.name.upper()}/terraform/main.tf",
            "gitHub.template.projectFolder": pattern.name.upper(),
            "authors": [{"name": "A", "linkedin": "https://www.linkedin.com/in/someone"}],
        },
    )
    codes = {p.code for p in validate_metadata(path)}
    messages = " ".join(p.message for p in validate_metadata(path))
    assert {"metadata.schema", "metadata.template-path", "metadata.folder-mismatch"} <= codes
    assert "title" in messages and "linkedin" in messages
    assert "language: 'Python' was expected" in messages


def test_handler_check_catches_a_function_without_handler(pattern: Pattern, tmp_path: Path) -> None:
    """A deliberately broken copy: the first function's handler is renamed."""
    copy = tmp_path / pattern.name
    shutil.copytree(pattern.root, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
    first = function_specs(copy)[0]
    module = find_package(copy / "src") / "functions" / f"{first.module}.py"
    plant(module, (r"^def handler\(", "def handle("))
    assert handler_problems(copy) == [f"{first.name}: {module.name} has no handler(event, context)"]
