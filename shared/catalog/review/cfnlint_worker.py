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

# E3601 is reached through the template and resource-properties schema rules (id: module).
E3601_CHAIN = {
    "E0000": "cfnlint.rules.errors.parse",
    "E0001": "cfnlint.rules.errors.transform",
    "E0002": "cfnlint.rules.errors.rule",
    "E1001": "cfnlint.rules.jsonschema.JsonSchema",
    "E1101": "cfnlint.rules.jsonschema.CfnLint",
    "E3001": "cfnlint.rules.resources.Configuration",
    "E3002": "cfnlint.rules.resources.properties.Properties",
    "E3003": "cfnlint.rules.resources.properties.Required",
    "E3012": "cfnlint.rules.resources.properties.Type",
    "E3601": "cfnlint.rules.resources.stepfunctions.StateMachineDefinition",
}
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


def _finds_e3601(runner: Any) -> bool:
    return any(m["rule"] == "E3601" for m in _matches(runner, _SELF_TEST))


def chain_runner() -> Any:
    """A cfn-lint Runner with the chain's rules only. Their modules alone are imported (cfn-lint
    otherwise loads its ~330 rule files, 0.4 s); if that fails the self-test, every rule is loaded
    and filtered to the chain, and if that fails too, every rule runs."""
    from cfnlint.api import ConfigMixIn
    from cfnlint.rules._rules import Rules
    from cfnlint.runner import Runner

    class ChainConfig(ConfigMixIn):
        @property
        def append_rules(self) -> list[str]:  # module paths instead of cfn-lint's rules folder
            return sorted(set(E3601_CHAIN.values()))

    def chain(rules: Any) -> Any:
        return Rules._from_list([r for rule_id, r in rules.items() if rule_id in E3601_CHAIN])

    try:
        runner = Runner(ChainConfig(regions=["us-east-1"]))
        runner.rules = chain(runner.rules)
        if set(runner.rules) == set(E3601_CHAIN) and _finds_e3601(runner):
            return runner
    except Exception:  # a cfn-lint upgrade moved a rule: load them all below
        pass
    runner = Runner(ConfigMixIn(regions=["us-east-1"]))
    every_rule = runner.rules
    runner.rules = chain(every_rule)
    if not _finds_e3601(runner):
        runner.rules = every_rule
    return runner


def main() -> int:
    runner = chain_runner()
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
