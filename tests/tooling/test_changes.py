"""`catalog changed`: which patterns a pull request must cycle, decided from its diff."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from catalog import cli
from catalog.changes import ChangeError, changed_files, patterns_to_cycle

PATTERNS = ["alpha", "beta", "gamma"]


def test_a_change_inside_pattern_folders_cycles_only_those() -> None:
    files = ["patterns/beta/src/app.py", "patterns/alpha/README.md", "patterns/beta/events/x.json"]
    assert patterns_to_cycle(files, PATTERNS) == (["alpha", "beta"], "pattern folders changed")


def test_a_shared_change_cycles_every_pattern() -> None:
    for shared in ("shared/catalog/deploy.py", "terraform/modules/python-function/main.tf",
                   "pulumi/catalog_pulumi/function.py", "tests/test_6_deploy_destroy.py",
                   "requirements.lock", ".github/workflows/test.yml"):  # fmt: skip
        names, reason = patterns_to_cycle(["patterns/alpha/src/app.py", shared], PATTERNS)
        assert names == PATTERNS, shared
        assert shared in reason


def test_documents_that_no_cycle_reads_cycle_nothing() -> None:
    assert patterns_to_cycle(["README.md", "CHANGELOG.md", "LICENSE"], PATTERNS)[0] == []
    assert patterns_to_cycle([], PATTERNS)[0] == []


def test_a_removed_pattern_has_nothing_to_cycle() -> None:
    assert patterns_to_cycle(["patterns/gone/README.md"], PATTERNS)[0] == []


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e")  # fmt: skip
    done = subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True, env=env)  # fmt: skip
    return done.stdout


def test_changed_files_are_those_since_the_merge_base(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "patterns" / "alpha").mkdir(parents=True)
    (tmp_path / "patterns" / "alpha" / "a.txt").write_text("1")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "patterns" / "alpha" / "a.txt").write_text("2")
    git(tmp_path, "commit", "-q", "-am", "change alpha")
    git(tmp_path, "checkout", "-q", "main")
    (tmp_path / "shared.txt").write_text("moved on")  # main moving on is not the PR's change
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "main moves")
    git(tmp_path, "checkout", "-q", "feature")
    assert changed_files("main", tmp_path) == ["patterns/alpha/a.txt"]
    with pytest.raises(ChangeError, match="no-such-ref"):
        changed_files("no-such-ref", tmp_path)


def test_cli_prints_a_json_list_and_rejects_a_bad_ref(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["changed", "--base", "HEAD", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) in ([], [p.name for p in cli_patterns()])
    assert cli.main(["changed", "--base", "no-such-ref-anywhere"]) == 2
    err = capsys.readouterr().err  # errors are one line on stderr (README, Exit codes)
    assert "no-such-ref-anywhere" in err and "Traceback" not in err


def cli_patterns() -> list[Path]:
    return sorted(p for p in (cli.REPO_ROOT / "patterns").iterdir() if p.is_dir())
