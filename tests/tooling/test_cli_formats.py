"""`catalog list` and `validate`: whole names at any width, and `--format json`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from catalog import cli
from catalog.commands import EXIT_BAD_INPUT
from catalog.patterns import discover


@pytest.mark.parametrize("width", [60, 80, 100])
def test_list_never_cuts_a_pattern_name(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "console", Console(width=width, highlight=False))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out.split("┃ pattern")[1].split("┃")[0]
    for pattern in discover():
        assert pattern.name in out


def test_list_json_has_every_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [p.name for p in discover()]
    assert all(row["path"] == f"patterns/{row['name']}" and row["variants"] for row in rows)


def test_validate_json_reports_problems_with_their_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == [] and report["patterns"] == [p.name for p in discover()]

    source = discover()[0].root
    broken = tmp_path / source.name
    shutil.copytree(source, broken, ignore=shutil.ignore_patterns("build", "__pycache__"))
    metadata = json.loads((broken / "example-pattern.json").read_text())
    metadata["title"] = "x" * 200
    (broken / "example-pattern.json").write_text(json.dumps(metadata))
    assert cli.main(["validate", str(broken), "--format", "json"]) == EXIT_BAD_INPUT
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems and all({"code", "file", "line", "message"} <= set(p) for p in problems)
    assert any(p["file"].endswith("example-pattern.json") for p in problems)
