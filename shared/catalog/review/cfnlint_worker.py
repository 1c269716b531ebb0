"""cfn-lint in a process of its own: `python -m catalog.review.cfnlint_worker`.

Importing cfn-lint takes seconds (sympy, networkx): the review starts this worker early so the
import overlaps its other work, and sends each distinct state machine definition as the pattern
that holds it is reviewed; closing stdin ends the worker.
Protocol: one JSON object per line on stdin (`{"id", "template"}`), one per line on stdout
(`{"id", "matches"}`). Only the rules that lead to E3601 run (twice as fast per definition); a
self-test at start falls back to every rule if a cfn-lint upgrade changed that chain.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# E3601 is reached through the template and resource-properties schema rules.
E3601_CHAIN = frozenset(
    {"E3601", "E1101", "E1001", "E3002", "E3001", "E3003", "E3012", "E0000", "E0001", "E0002"}
)
_SELF_TEST = {
    "Resources": {
        "StateMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": "arn:aws:iam::123456789012:role/self-test",
                "Definition": {
                    "StartAt": "A",
                    "States": {"A": {"Type": "Wait", "Seconds": 100000000, "End": True}},
                },
            },
        }
    }
}


def _matches(runner: Any, template: dict[str, Any]) -> list[dict[str, Any]]:
    from cfnlint.decode.decode import decode_str

    decoded, errors = decode_str(json.dumps(template))
    found = list(errors or []) + (list(runner.validate_template(decoded)) if decoded else [])
    return [
        {"rule": m.rule.id, "message": str(m.message), "path": [str(p) for p in (m.path or [])]}
        for m in found
    ]


def main() -> int:
    from cfnlint.api import ConfigMixIn
    from cfnlint.rules._rules import Rules
    from cfnlint.runner import Runner

    runner = Runner(ConfigMixIn(regions=["us-east-1"]))
    every_rule = runner.rules
    runner.rules = Rules._from_list(
        [r for rule_id, r in every_rule.items() if rule_id in E3601_CHAIN]
    )
    if not any(m["rule"] == "E3601" for m in _matches(runner, _SELF_TEST)):
        runner.rules = every_rule
    for raw in sys.stdin:
        if not raw.strip():
            continue
        job: dict[str, Any] = json.loads(raw)
        try:
            matches = _matches(runner, job["template"])
        except Exception as exc:  # one bad definition must not stop the others
            matches = [{"rule": "ERROR", "message": f"{type(exc).__name__}: {exc}", "path": []}]
        sys.stdout.write(json.dumps({"id": job["id"], "matches": matches}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
