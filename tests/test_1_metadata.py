"""1. Metadata: every pattern's example-pattern.json, and the model at the top, validate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from catalog.metadata import PUBLIC_SCHEMA, validate_metadata
from catalog.patterns import METADATA_FILE, REPO_ROOT, Pattern


def test_pattern_metadata_is_valid(pattern: Pattern) -> None:
    problems = validate_metadata(pattern.root / METADATA_FILE)
    assert not problems, "\n".join(f"{p.line}: {p.message}" for p in problems)


def test_pattern_metadata_is_valid_for_the_public_catalogue(pattern: Pattern) -> None:
    assert validate_metadata(pattern.root / METADATA_FILE, schema=PUBLIC_SCHEMA) == []


def test_the_model_at_the_top_validates() -> None:
    assert validate_metadata(REPO_ROOT / METADATA_FILE) == []


def test_pattern_functions_match_the_metadata_language(pattern: Pattern) -> None:
    assert pattern.functions, (
        "a pattern has at least one Lambda function in src/<package>/functions/"
    )
    assert pattern.metadata["language"] == "Python"


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
            "gitHub.template.templateFile": f"{pattern.name.upper()}/terraform/main.tf",
            "gitHub.template.projectFolder": pattern.name.upper(),
            "authors": [{"name": "A", "linkedin": "https://www.linkedin.com/in/someone"}],
        },
    )
    codes = {p.code for p in validate_metadata(path)}
    messages = " ".join(p.message for p in validate_metadata(path))
    assert {"metadata.schema", "metadata.template-path", "metadata.folder-mismatch"} <= codes
    assert "title" in messages and "linkedin" in messages
