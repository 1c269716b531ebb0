"""Review progress: every finished folder is counted; the CLI shows it on stderr for many folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.review import review
from catalog.review.cli import PROGRESS_FROM, folder_progress


def test_progress_is_called_once_per_pattern_folder(tmp_path: Path, kit: Any) -> None:
    folders = tmp_path / "patterns"
    for index in range(3):
        kit.base_pattern("tf-orders", folders / f"orders-{index}")
    calls: list[tuple[int, int]] = []
    report = review([folders], cfn_lint=False, jobs=1, progress=lambda *c: calls.append(c))
    assert len(report.patterns) == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_the_cli_shows_tenths_only_for_many_folders(capsys: pytest.CaptureFixture[str]) -> None:
    for done in range(1, 11):
        folder_progress(done, 10)
    assert capsys.readouterr().err == ""
    total = PROGRESS_FROM * 2
    for done in range(1, total + 1):
        folder_progress(done, total)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"catalog review: {n * total // 10}/{total} folders reviewed" for n in range(1, 11)
    ]
