"""Every rule: a fixture with exactly that defect fires it at the right file and line, and the
clean bases (the twins every defect case starts from) stay silent."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from catalog.review import RULES, review

FIXTURES = Path(__file__).parent / "fixtures"
BASES = FIXTURES / "bases"
DEFECTS = FIXTURES / "defects"
CASES = sorted(p.name for p in DEFECTS.iterdir() if (p / "case.json").is_file())
RULES_MD = Path(__file__).resolve().parents[2] / "shared" / "catalog" / "review" / "RULES.md"


@pytest.mark.parametrize("name", CASES)
def test_defect_fires_exactly(name: str, tmp_path: Path, kit: Any) -> None:
    spec = kit.load_case(name)
    root = kit.materialise(spec, tmp_path)
    report = review([root], cfn_lint=spec.get("cfn_lint", False), cwd=root)
    expected = sorted((r, p, line) for r, p, line in spec["expect"])
    assert kit.triples(report, root) == expected
    assert not report.notices


def test_bases_are_clean(tmp_path: Path, kit: Any) -> None:
    """The clean twins: all bases together, with cfn-lint on, give no finding and no notice."""
    roots = [kit.base_pattern(p.name, tmp_path / p.name) for p in sorted(BASES.iterdir())]
    report = review(roots, cfn_lint=True, cwd=tmp_path)
    assert [f.to_dict() for f in report.findings] == []
    assert report.notices == []
    assert {p.name for p in report.patterns} == {p.name for p in BASES.iterdir()}


def _expect(name: str) -> list[list[Any]]:
    return json.loads((DEFECTS / name / "case.json").read_text())["expect"]


def test_every_rule_has_a_defect_case() -> None:
    fired = {rule for name in CASES for rule, _, _ in _expect(name)}
    # SEC001 (checkov) is covered in test_checkov.py with a recorded checkov run; READ002 (an
    # empty folder, which no case made from a base can be) in test_robustness.py.
    assert set(RULES) - {"SEC001", "READ002"} <= fired
    assert fired <= set(RULES)


def test_every_case_fires_its_own_rule() -> None:
    """A `-clean` case is the clean twin of a defect class: it must stay silent."""
    for name in CASES:
        rule = name.split("-", 1)[0]
        if name.endswith("-clean"):
            assert _expect(name) == [], name
            assert any(c.startswith(rule) and not c.endswith("-clean") for c in CASES), name
        else:
            assert rule in {r for r, _, _ in _expect(name)}, name


def test_rules_md_documents_every_rule() -> None:
    text = RULES_MD.read_text()
    for rule_id, spec in RULES.items():
        lines = [line for line in text.splitlines() if re.match(rf"\|\s*`?{rule_id}`?\s*\|", line)]
        assert len(lines) == 1, f"{rule_id} must have exactly one row in RULES.md"
        assert spec.category in lines[0], rule_id
        assert spec.severity in lines[0], rule_id


SEED = FIXTURES / "seed" / "lambda-durable-function-chaining-cdk"
STACK = "lib/lambda-durable-function-chaining-cdk-stack.ts"
ORCHESTRATOR = "lib/functions/validateOrder/index.ts"
# Every finding of the real maintainer review (shared seeds/002), found by machine.
SEED_EXPECTED = {
    ("META001", "README.md", None),  # no pattern metadata JSON at the root
    ("HYG001", ".vscode/settings.json", None),  # VS Code configuration directory committed
    ("DOC002", "README.md", None),  # missing README steps (Testing, Cleanup)
    ("DOC005", "README.md", 1),  # 'Lambda Durable Functions' in the title
    ("DOC005", "README.md", 3),
    ("DOC004", "README.md", 3),  # 'Lambda' without 'AWS' on first reference in the body
    ("DOC004", "README.md", 21),  # DynamoDB and CloudWatch without 'Amazon'
    ("PATH002", STACK, 25),  # allocateInventory vs AllocateInventory
    ("PATH002", STACK, 31),  # fulfillOrder vs FulfillOrder
    ("RM003", STACK, 12),  # ProductCatalogTable without RemovalPolicy.DESTROY
    ("ATOM001", "lib/functions/AllocateInventory/index.ts", 21),  # GetItem then UpdateItem
    ("LOG001", STACK, 17),  # four functions without log retention
    ("LOG001", STACK, 23),
    ("LOG001", STACK, 29),
    ("LOG001", STACK, 34),
    ("DUR001", ORCHESTRATOR, 34),  # new Date() outside steps
    ("DUR001", ORCHESTRATOR, 49),
    ("DUR001", ORCHESTRATOR, 70),
    ("DUR002", ORCHESTRATOR, 59),  # restore-inventory step nested in fulfill-order
    ("DUR003", ORCHESTRATOR, 15),  # InvokeCommand instead of context.invoke
    ("DUR003", ORCHESTRATOR, 40),
}


def test_seed_review_is_found_by_machine(tmp_path: Path, kit: Any) -> None:
    root = tmp_path / SEED.name
    shutil.copytree(SEED, root)
    (root / ".vscode").mkdir()
    (root / ".vscode" / "settings.json").write_text('{"editor.formatOnSave": true}\n')
    report = review([root], cfn_lint=False, cwd=root)
    found = kit.triples(report, root)
    assert set(found) == SEED_EXPECTED
    messages = " ".join(f.message for f in report.findings)
    assert "exists as lib/functions/AllocateInventory/index.ts" in messages
    assert "'DynamoDB' should be 'Amazon DynamoDB'" in messages
    assert "'CloudWatch' should be 'Amazon CloudWatch'" in messages
    assert "README has no '## Testing' section" in messages
    assert "README has no '## Cleanup' section" in messages


def test_lambda_durable_functions_is_a_correct_first_reference(tmp_path: Path) -> None:
    pattern = tmp_path / "durable-demo"
    pattern.mkdir()
    (pattern / "README.md").write_text(
        "# Orders with Lambda durable functions\n\nUses AWS Lambda.\n"
    )
    report = review([pattern], checkov=False, cfn_lint=False)
    assert not [f for f in report.findings if f.rule == "DOC004"]
