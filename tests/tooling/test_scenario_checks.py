"""`catalog.scenarios.check_scenarios`: every check fails on a deliberately broken copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog.patterns import Pattern, discover
from catalog.scenarios import check_scenarios, static_output_keys

SAGA = next(p for p in discover() if p.name == "stepfunctions-saga")


def test_every_pattern_scenario_passes(pattern: Pattern) -> None:
    assert check_scenarios(pattern.root) == []


def test_seed_tables_are_read_statically_from_the_terraform_outputs() -> None:
    assert static_output_keys(SAGA.terraform_dir, "table_names") == {
        "orders",
        "inventory",
        "payments",
    }
    assert static_output_keys(SAGA.terraform_dir, "no_such_output") is None


@pytest.fixture
def saga_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "stepfunctions-saga"
    shutil.copytree(
        SAGA.root, copy, ignore=shutil.ignore_patterns("build", "__pycache__", ".terraform")
    )
    return copy


def _edit(copy: Path, name: str, change) -> None:
    path = copy / "events" / f"{name}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


CASES = {
    "fault on a missing function": (
        lambda d: d["faults"].append({"function": "charge-paymnt", "error": "TransientError"}),
        "scenario.fault-function",
        "'charge-paymnt' does not exist",
    ),
    "unknown error kind": (
        lambda d: d["faults"].append({"function": "charge-payment", "error": "TransientErorr"}),
        "scenario.fault-error",
        "'TransientErorr'",
    ),
    "seed table not in the outputs": (
        lambda d: d.setdefault("seed", {}).update({"stock": [{"sku": "A"}]}),
        "scenario.seed-table",
        "'stock' is not a key",
    ),
    "missing input": (lambda d: d.pop("input"), "scenario.schema", "'input' is a required"),
    "unknown top-level key": (
        lambda d: d.update({"expected": {}}),
        "scenario.schema",
        "'expected' was unexpected",
    ),
    "times below one": (
        lambda d: d["faults"].append(
            {"function": "charge-payment", "error": "TransientError", "times": 0}
        ),
        "scenario.schema",
        "0 is less than the minimum of 1",
    ),
    "bad when": (
        lambda d: d["faults"].append(
            {"function": "charge-payment", "error": "TransientError", "when": "during"}
        ),
        "scenario.schema",
        "'during' is not one of",
    ),
    "bad expected status": (
        lambda d: d.update({"expect": {"status": "PASSED"}}),
        "scenario.schema",
        "'PASSED' is not one of",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_broken_scenario_is_reported(case: str, saga_copy: Path) -> None:
    change, code, fragment = CASES[case]
    _edit(saga_copy, "success", change)
    problems = check_scenarios(saga_copy)
    assert [p.code for p in problems] == [code], problems
    assert fragment in problems[0].message
    assert problems[0].file.name == "success.json"


def test_invalid_json_is_reported_with_its_line(saga_copy: Path) -> None:
    (saga_copy / "events" / "success.json").write_text('{\n  "input": {,\n}')
    (problem,) = check_scenarios(saga_copy)
    assert problem.code == "scenario.invalid-json" and problem.line == 2


def test_given_table_names_replace_the_static_ones(saga_copy: Path) -> None:
    problems = check_scenarios(saga_copy, table_names=["orders"])
    assert problems and {p.code for p in problems} == {"scenario.seed-table"}
