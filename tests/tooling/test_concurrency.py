"""Runs at once in one clone: eight builds of one pattern into one folder, two cycles of one
pattern. Every run succeeds and nothing is corrupted (unique temporary names, a build lock,
private workspaces)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.packaging import LOCK_FILE, build_pattern
from catalog.testing import build_debris, require_terraform

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "patterns" / "tiny-echo"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _start(argv: list[str], tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "catalog.cli", *argv],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_parallel_builds_of_one_pattern_all_succeed(tmp_path: Path) -> None:
    build_pattern(FIXTURE, tmp_path / "ref")
    reference = _digests(tmp_path / "ref")
    out = tmp_path / "zips"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    runs = [_start(["build", str(FIXTURE), "--out", str(out)], scratch) for _ in range(8)]
    results = [(run.wait(300), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    assert all("Traceback" not in err for _, _, err in results)
    assert _digests(out) == reference  # byte-identical zips, no temporary or lock file left
    assert LOCK_FILE not in os.listdir(out) and list(scratch.iterdir()) == []


@pytest.mark.deploy
def test_two_parallel_cycles_of_one_pattern_both_pass(tmp_path: Path) -> None:
    require_terraform()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    runs = [_start(["cycle", str(FIXTURE)], scratch) for _ in range(2)]
    results = [(run.wait(1200), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert all("cycle passed, nothing left behind" in out for _, out, _ in results)
    assert list(scratch.iterdir()) == []
    assert build_debris(FIXTURE / "build") == []


def test_terraform_tmpdir_stays_short_enough_for_plugin_sockets(tmp_path: Path) -> None:
    """A deep workspace (a long TMPDIR) must not make the provider's socket path unbindable."""
    from catalog.engines.terraform import _private_tmpdir

    shallow = _private_tmpdir(Path("/tmp") / "catalog-tf-x")
    deep = _private_tmpdir(tmp_path / ("d" * 80) / "catalog-tf-transactional-outbox-abcdefgh")
    try:
        assert shallow == Path("/tmp/catalog-tf-x/.tmp")
        assert deep.parent == Path("/tmp") and len(f"{deep}/plugin1234567890") < 108
    finally:
        shutil.rmtree(shallow.parent, ignore_errors=True)
        shutil.rmtree(deep, ignore_errors=True)
