"""State machine definition checks: statelint and cfn-lint, one function for every caller.

Definitions carry `${Name}` placeholders that both engines substitute; they are replaced with fake
Lambda ARNs before linting so the linters see a deployable definition.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
FAKE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}"
FAKE_ROLE = "arn:aws:iam::123456789012:role/state-machine"


@dataclass(frozen=True)
class LintProblem:
    tool: str  # statelint | cfn-lint | json
    message: str
    line: int | None = None


def substitute_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: FAKE_ARN.format(name=m.group(1)), text)


def lint_definition_text(text: str) -> list[LintProblem]:
    rendered = substitute_placeholders(text)
    try:
        definition = json.loads(rendered)
    except json.JSONDecodeError as exc:
        return [LintProblem("json", f"invalid JSON: {exc.msg}", exc.lineno)]
    problems = [LintProblem("statelint", message) for message in statelint_problems(definition)]
    problems += _cfn_lint(definition)
    return problems


def statelint_problems(definition: object) -> list[str]:
    from statelint.config import Config
    from statelint.linter import Linter
    from statelint.problem import ProblemType

    # Step Functions accepts integers where statelint wants floats (BackoffRate: 2).
    return [str(p) for p in Linter.validate(definition, Config({ProblemType.FLOAT}))]


def cfn_template(definition: object) -> dict[str, object]:
    """The definition in object form inside a state machine resource: what cfn-lint E3601 reads."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "StateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": FAKE_ROLE, "Definition": definition},
            }
        },
    }


def lint_definition(path: Path) -> list[LintProblem]:
    return lint_definition_text(path.read_text())


def _cfn_lint(definition: object) -> list[LintProblem]:
    """cfn-lint E3601 validates a definition in object form inside a state machine resource."""
    from cfnlint.api import lint

    matches = lint(json.dumps(cfn_template(definition)))
    return [
        LintProblem("cfn-lint", f"{m.rule.id}: {m.message}")
        for m in matches
        if m.rule.id.startswith(("E", "W"))
    ]
