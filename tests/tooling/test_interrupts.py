"""SIGINT and SIGTERM in every phase of `cycle`, `run`, `up` and `demo`, and a second signal
during the cleanup: within 60 s what was created is destroyed (or named), the cleanup shows its
progress, no child process, temporary folder, plugin socket, state or lock remains, and the next
run passes (each test here is the next run of the one before).

The mechanism is shared by every pattern (catalog.interrupts, the Terraform runner, deploy), so
the tests use the smallest stack there is: the fixture tests/fixtures/patterns/tiny-echo.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catalog import cli
from catalog.testing import build_debris, require_terraform

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "patterns" / "tiny-echo"
CLEANUP_LIMIT_S = 60.0
PHASE_TIMEOUT_S = 600.0  # a busy machine: terraform pays seconds of CPU per command


def marked_processes(marker: str) -> list[str]:
    """Processes (terraform, provider plugins, uv) whose environment carries the run's marker."""
    found = []
    needle = f"CATALOG_SIGNAL_TEST={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(f"{entry.name} {(entry / 'cmdline').read_bytes()[:80]!r}")
        except OSError:
            continue
    return found


@dataclass
class Run:
    """One `catalog` command in a child process with a private TMPDIR and an env marker."""

    argv: list[str]
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sig-", dir="/tmp")))
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    lines: list[str] = field(default_factory=list)

    def start(self) -> Run:
        env = {
            **os.environ,
            "TMPDIR": str(self.tmp),
            "PYTHONUNBUFFERED": "1",
            "CATALOG_SIGNAL_TEST": self.marker,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "catalog.cli", *self.argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, fragment: str, timeout: float = PHASE_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        with self._seen:
            while not any(fragment in line for line in self.lines):
                if not self._reader.is_alive():
                    pytest.fail(f"exited before {fragment!r}: {self.output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no {fragment!r} within {timeout} s: {self.output()}")
                self._seen.wait(0.2)

    def wait_for_state(self, timeout: float = PHASE_TIMEOUT_S) -> None:
        """Until terraform has recorded a created resource (apply is half done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for state in self.tmp.glob("catalog-tf-*/patterns/*/terraform/terraform.tfstate"):
                if '"mode": "managed"' in state.read_text(errors="replace"):
                    return
            if self.process.poll() is not None:
                pytest.fail(f"exited before creating anything: {self.output()}")
            time.sleep(0.1)
        pytest.fail(f"nothing created within {timeout} s: {self.output()}")

    def signal(self, signum: int) -> float:
        self.process.send_signal(signum)
        return time.monotonic()

    def finish(self, timeout: float = CLEANUP_LIMIT_S) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            for line in marked_processes(self.marker):  # never leave our terraform running
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(line.split()[0]), signal.SIGKILL)
            pytest.fail(f"still running {timeout} s after the signal: {self.output()}")
        self._reader.join(10)
        return code

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def assert_nothing_left(self) -> None:
        deadline = time.monotonic() + 5  # the kernel reaps killed plugins asynchronously
        while marked_processes(self.marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marked_processes(self.marker) == [], self.output()
        left = sorted(p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*"))
        assert left == [], f"left in TMPDIR: {left}\n{self.output()}"
        debris = build_debris(FIXTURE / "build")
        assert debris == [], debris


@pytest.fixture
def catalog_run() -> Iterator[Callable[[list[str]], Run]]:
    """Starts runs; whatever a failed test left (a process, its TMPDIR) is removed afterwards."""
    require_terraform()
    runs: list[Run] = []

    def start(argv: list[str]) -> Run:
        runs.append(Run(argv))
        return runs[-1]

    yield start
    for run in runs:
        if getattr(run, "process", None) is not None and run.process.poll() is None:
            run.process.kill()
        for line in marked_processes(run.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        shutil.rmtree(run.tmp, ignore_errors=True)


def _assert_interrupted(run: Run, signum: int, sent: float, code: int) -> None:
    elapsed = time.monotonic() - sent
    assert code == 128 + signum, run.output()
    name = signal.Signals(signum).name
    assert run.lines[-1] == f"catalog: error: interrupted by {name}: cleaned up, exit {code}"
    assert elapsed < CLEANUP_LIMIT_S, f"cleanup took {elapsed:.0f} s"
    run.assert_nothing_left()


def _assert_destroyed_or_named(run: Run) -> None:
    """Destroyed with progress shown, or (the budget ran out on a busy machine) every resource
    still in state named, with what removes it."""
    text = run.output()
    assert "resource(s) created so far" in text, text
    left = [line for line in run.lines if line.startswith("catalog: error: left behind:")]
    if left:
        assert "were not destroyed in the embedded AWS" in left[0], text
        assert "module." in left[0] and "ended with it when it stopped" in left[0], text
    else:
        assert "Destruction complete" in text, text  # terraform's progress, line by line
        assert "cleanup done in " in text and "nothing left" in text, text


# ------------------------------------------------------------------ cheap: nothing deployed yet
def test_sigterm_while_building_leaves_no_partial_zip_or_lock(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = Path.read_bytes
    calls: list[Path] = []

    def signal_inside_the_zip(self: Path) -> bytes:
        calls.append(self)
        if len(calls) == 2:  # the zip is half written, under its temporary name
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)  # the handler raises here
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", signal_inside_the_zip)
    out = Path(tempfile.mkdtemp(prefix="sig-build-"))
    try:
        code = cli.main(["build", str(FIXTURE), "--out", str(out)])
        assert code == 143
        assert (
            capsys.readouterr().err.strip().endswith("interrupted by SIGTERM: cleaned up, exit 143")
        )
        assert len(calls) == 2 and list(out.iterdir()) == []  # no partial zip, no lock
    finally:
        for child in out.iterdir():
            child.unlink()
        out.rmdir()


@pytest.mark.parametrize(
    ("argv", "signum"),
    [
        (["cycle", str(FIXTURE)], signal.SIGINT),
        (["run", str(FIXTURE), "echo"], signal.SIGTERM),
        (["demo", str(FIXTURE)], signal.SIGINT),
    ],
    ids=["cycle-SIGINT", "run-SIGTERM", "demo-SIGINT"],
)
def test_signal_during_init(
    catalog_run: Callable[[list[str]], Run], argv: list[str], signum: int
) -> None:
    run = catalog_run(argv).start()
    run.wait_for("terraform init")
    time.sleep(1.0)  # terraform is running
    sent = run.signal(signum)
    _assert_interrupted(run, signum, sent, run.finish())


# ------------------------------------------------------------------ something exists: destroy it
@pytest.mark.deploy
def test_sigterm_during_apply_destroys_what_was_created(
    catalog_run: Callable[[list[str]], Run],
) -> None:
    run = catalog_run(["cycle", str(FIXTURE)]).start()
    run.wait_for("terraform apply")
    run.wait_for_state()
    sent = run.signal(signal.SIGTERM)
    code = run.finish()
    _assert_destroyed_or_named(run)
    _assert_interrupted(run, signal.SIGTERM, sent, code)


@pytest.mark.deploy
@pytest.mark.parametrize(
    ("argv", "phase", "signum"),
    [
        (["cycle", str(FIXTURE)], "drift check", signal.SIGINT),
        (["cycle", str(FIXTURE)], "scenario refused:", signal.SIGTERM),  # during `slow`
        (["cycle", str(FIXTURE)], "terraform destroy (", signal.SIGINT),
        (["cycle", str(FIXTURE), "--reapply"], "apply again", signal.SIGTERM),
    ],
    ids=["plan-SIGINT", "scenarios-SIGTERM", "destroy-SIGINT", "reapply-SIGTERM"],
)
def test_signal_in_a_later_phase(
    catalog_run: Callable[[list[str]], Run], argv: list[str], phase: str, signum: int
) -> None:
    run = catalog_run(argv).start()
    run.wait_for(phase)
    if "--reapply" in argv:
        run.wait_for_state()  # the second apply has created something again
    else:
        time.sleep(1.0)
    sent = run.signal(signum)
    code = run.finish()
    _assert_destroyed_or_named(run)
    _assert_interrupted(run, signum, sent, code)


@pytest.mark.deploy
def test_second_signal_during_cleanup_names_what_is_left(
    catalog_run: Callable[[list[str]], Run],
) -> None:
    run = catalog_run(["cycle", str(FIXTURE)]).start()
    run.wait_for("terraform apply")
    run.wait_for_state()
    sent = run.signal(signal.SIGINT)
    run.wait_for("resource(s) created so far")
    time.sleep(1.0)
    run.signal(signal.SIGTERM)
    code = run.finish()
    text = run.output()
    assert "second signal (SIGTERM)" in text, text
    left = [line for line in run.lines if line.startswith("catalog: error: left behind:")]
    assert left and "were not destroyed in the embedded AWS" in left[0], text
    assert "ended with it when it stopped" in left[0], text
    _assert_interrupted(run, signal.SIGINT, sent, code)


@pytest.mark.deploy
def test_local_up_ends_on_sigint_and_destroys(catalog_run: Callable[[list[str]], Run]) -> None:
    run = catalog_run(["up", str(FIXTURE)]).start()
    run.wait_for("press Ctrl-C")
    sent = run.signal(signal.SIGINT)
    code = run.finish()
    assert code == 0, run.output()
    assert time.monotonic() - sent < CLEANUP_LIMIT_S
    assert "destroyed; embedded AWS stopped" in run.output()
    run.assert_nothing_left()
