"""`--sarif FILE`: one review run writes the annotations, the job summary and the SARIF file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.review import main


def test_one_run_writes_annotations_summary_and_sarif(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = kit.materialise(kit.load_case("DOC002-section-missing"), tmp_path)
    summary, sarif = tmp_path / "summary.md", tmp_path / "review.sarif"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main([str(root), "--format", "github", "--sarif", str(sarif), "--no-checkov"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("::error file=")
    assert summary.read_text().startswith("## Pattern review")
    log = json.loads(sarif.read_text())
    rules = {result["ruleId"] for run in log["runs"] for result in run["results"]}
    assert "DOC002" in rules
