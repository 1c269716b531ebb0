"""`main(argv)`: exit codes, usage errors, --changed-since, git-aware hygiene, the github job summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from catalog.review import main, review


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def git(cwd: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@e",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@e",
    )
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, env=env)


def test_clean_pattern_exits_0(
    tmp_path: Path, kit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    code, out, _ = run([str(root), "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_errors_exit_1(tmp_path: Path, kit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = kit.materialise(kit.load_case("RM001-sam-retain"), tmp_path)
    code, out, _ = run([str(root)], capsys)
    assert code == 1
    assert "RM001" in out


def test_fail_on_warning(tmp_path: Path, kit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = kit.materialise(kit.load_case("RT002-terraform-provider-region"), tmp_path)
    assert run([str(root)], capsys)[0] == 0  # RT002 is a warning
    assert run([str(root), "--fail-on", "warning"], capsys)[0] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["--fail-on", "notice"], "argument --fail-on: invalid choice"),
        (["/no/such/folder"], "no such file or folder: /no/such/folder"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_usage_exits_2_with_one_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()  # one line, as every catalog error
    assert line.startswith("catalog: error: review: ") and message in line
    assert line.endswith("(usage: catalog review --help)")
    assert "Traceback" not in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "--changed-since" in out


def _repo_with_two_patterns(tmp_path: Path, kit: Any) -> Path:
    """A checkout shaped like the public catalogue: pattern folders at the top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("tf-orders", "sam-orders"):
        shutil.copytree(kit.bases / name, repo / name)
    (repo / ".gitignore").write_text(".vscode/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def test_changed_since_reviews_only_touched_patterns(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo_with_two_patterns(tmp_path, kit)
    monkeypatch.chdir(repo)
    assert review(["."], changed_since="HEAD", cfn_lint=False).patterns == []
    readme = repo / "sam-orders" / "README.md"
    readme.write_text(readme.read_text().replace("## Cleanup", "## Clean"))
    report = review(["."], changed_since="HEAD", cfn_lint=False)
    assert [p.name for p in report.patterns] == ["sam-orders"]
    assert [f.rule for f in report.findings] == ["DOC002"]


def test_changed_pattern_that_is_not_reviewed_is_an_error(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request adding `patterns/_orders/` changes a pattern the review never reads."""
    repo = tmp_path / "repo"
    shutil.copytree(kit.bases / "sam-orders", repo / "patterns" / "sam-orders")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    monkeypatch.chdir(repo)
    assert review(["."], changed_since="HEAD", cfn_lint=False).findings == []
    shutil.copytree(kit.bases / "sam-orders", repo / "patterns" / "_orders")
    report = review(["."], changed_since="HEAD", cfn_lint=False)
    assert report.patterns == []
    assert [(f.rule, f.path) for f in report.findings] == [("READ002", ".")]
    assert report.fails("error")


def test_changed_since_unknown_ref(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo_with_two_patterns(tmp_path, kit)
    monkeypatch.chdir(repo)
    code, _, err = run([".", "--changed-since", "no-such-ref"], capsys)
    assert code == 2
    assert "unknown git ref 'no-such-ref'" in err


def test_git_ignored_junk_is_not_reported(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo_with_two_patterns(tmp_path, kit)
    pattern = repo / "tf-orders"
    (pattern / ".vscode").mkdir()
    (pattern / ".vscode" / "settings.json").write_text("{}")  # ignored by .gitignore
    (pattern / ".DS_Store").write_bytes(b"\x00\x01")  # not ignored: it would be committed
    monkeypatch.chdir(repo)
    report = review(["tf-orders"], cfn_lint=False)
    assert [(f.rule, f.path) for f in report.findings] == [("HYG001", "tf-orders/.DS_Store")]


def test_github_format_writes_the_job_summary(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = kit.materialise(kit.load_case("DOC002-section-missing"), tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run([str(root), "--format", "github", "--no-checkov"], capsys)
    assert code == 1
    assert out.startswith("::error file=")
    assert "## Pattern review" not in out
    assert summary.read_text().startswith("## Pattern review")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    code, out, _ = run([str(root), "--format", "github", "--no-checkov"], capsys)
    assert "## Pattern review" in out
