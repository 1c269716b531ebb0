"""The suite's worker plan holds under the pinned pytest and pytest-xdist: the tests that share a
pattern's deployment or plan run on one worker, and no test that starts its own embedded AWS runs
on a worker after that worker's session embedded AWS has started (catalog.testing).

A small suite of its own runs under `--dist loadgroup`, as `catalog test` runs the real one, and
records which worker ran which test, in which order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

# The session fixtures stand in for catalog.testing's (they start nothing). `own_aws` marks a
# test that would start an embedded AWS of its own.
_CONFTEST = """
import json, os, time
import pytest

@pytest.fixture(scope="session")
def local_aws():
    return "session-aws"

@pytest.fixture(scope="session")
def pulumi_model():
    return "model"

@pytest.fixture
def record(request):
    yield
    with open(os.environ["RUN_LOG"], "a") as log:
        log.write(json.dumps({
            "worker": os.environ["PYTEST_XDIST_WORKER"],
            "test": request.node.name,
            "pattern": request.node.path.parent.name,
            "session_aws": "local_aws" in request.fixturenames,
        }) + "\\n")
"""

_PATTERN_TESTS = """
import time
import pytest

@pytest.mark.parametrize("i", range(4))
def test_model(record, pulumi_model, i):
    time.sleep(0.05)

@pytest.mark.parametrize("i", range(2))
def test_on_session_aws(record, pulumi_model, local_aws, i):
    time.sleep(0.05)
"""

_OWN_AWS_TESTS = """
import time
import pytest

@pytest.mark.parametrize("i", range(8))
def test_own_aws(record, i):
    time.sleep(0.05)
"""


def _run_suite(tmp_path: Path) -> list[dict[str, object]]:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_own_aws.py").write_text(_OWN_AWS_TESTS)
    for name in ("alpha", "beta", "gamma"):
        folder = tmp_path / "patterns" / name
        folder.mkdir(parents=True)
        (folder / f"test_{name}.py").write_text(_PATTERN_TESTS)
    run_log = tmp_path / "run.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "catalog.testing",
            "-p",
            "no:cacheprovider",
            "-n",
            "3",
            "--dist",
            "loadgroup",
            "--import-mode=importlib",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "RUN_LOG": str(run_log)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [json.loads(line) for line in run_log.read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    return _run_suite(tmp_path_factory.mktemp("worker-groups"))


def test_every_test_ran_once(runs: list[dict[str, object]]) -> None:
    assert len(runs) == 3 * 6 + 8


def test_tests_sharing_a_pattern_fixture_run_on_one_worker(runs: list[dict[str, object]]) -> None:
    workers: dict[object, set[object]] = defaultdict(set)
    for run in runs:
        if run["pattern"] in ("alpha", "beta", "gamma"):
            workers[run["pattern"]].add(run["worker"])
    assert {pattern: len(found) for pattern, found in workers.items()} == {
        "alpha": 1,
        "beta": 1,
        "gamma": 1,
    }, dict(workers)


def test_no_own_embedded_aws_after_the_session_one(runs: list[dict[str, object]]) -> None:
    started: set[object] = set()
    late = []
    for run in runs:  # the log is in the order the tests ended
        if run["session_aws"]:
            started.add(run["worker"])
        elif run["pattern"] not in ("alpha", "beta", "gamma") and run["worker"] in started:
            late.append(run["test"])
    assert late == []
