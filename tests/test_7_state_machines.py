"""7. State machine definitions pass statelint and cfn-lint (E3601)."""

from __future__ import annotations

import pytest
from catalog.asl import lint_definition, lint_definition_text
from catalog.patterns import Pattern


def test_definitions_pass_statelint_and_cfn_lint(pattern: Pattern) -> None:
    definitions = sorted((pattern.root / "statemachine").glob("*.asl.json"))
    if not definitions:
        pytest.skip(f"{pattern.name} has no state machine definition")
    for path in definitions:
        assert lint_definition(path) == [], path


def test_lint_catches_a_missing_state() -> None:
    problems = lint_definition_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${F}", "Next": "B"}}}'
    )
    assert any(p.tool == "statelint" and '"B"' in p.message for p in problems)
