"""7. State machine definitions pass statelint and cfn-lint (E3601)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.asl import lint_definition, lint_definition_text
from catalog.patterns import discover

DEFINITIONS = [
    path for p in discover() for path in sorted((p.root / "statemachine").glob("*.asl.json"))
]


@pytest.mark.parametrize(
    "path", DEFINITIONS, ids=[f"{p.parent.parent.name}/{p.name}" for p in DEFINITIONS]
)
def test_definition_passes_statelint_and_cfn_lint(path: Path) -> None:
    assert lint_definition(path) == []


def test_lint_catches_a_missing_state() -> None:
    problems = lint_definition_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${F}", "Next": "B"}}}'
    )
    assert any(p.tool == "statelint" and '"B"' in p.message for p in problems)


@pytest.mark.parametrize(
    "path", DEFINITIONS, ids=[f"{p.parent.parent.name}/{p.name}" for p in DEFINITIONS]
)
def test_lint_fails_on_a_broken_copy_of_the_definition(path: Path, tmp_path: Path) -> None:
    """A deliberately broken copy: the first state's Next points at a state that does not exist,
    and a Retry gets a misspelt field."""
    definition = json.loads(path.read_text())
    first = definition["States"][definition["StartAt"]]
    first["Next"] = "NoSuchState"
    first.setdefault("Retry", [{"ErrorEquals": ["States.ALL"]}])[0]["MaxAttempt"] = 3
    copy = tmp_path / path.name
    copy.write_text(json.dumps(definition))
    messages = " ".join(p.message for p in lint_definition(copy))
    assert '"NoSuchState"' in messages and "MaxAttempt" in messages, messages
