"""SIGINT and SIGTERM at any moment, and the child processes that must end with the command.

`guard()` (the CLI wraps every command in it) turns the first SIGINT or SIGTERM into
`Interrupted`, raised in the main thread wherever it is. Code that created something catches it
(BaseException), cleans up and re-raises. From that moment the command is cleaning up: a further
signal no longer raises (the cleanup must finish its bookkeeping) but kills the child process
groups at once, and `aborted()` tells the cleanup to start nothing new and to name what is left
(`leave()`) instead.

`run()` starts every child (terraform, which starts its provider plugins, and uv) in a process
group of its own and ends the whole group whatever happens, so a signal that reaches only this
process (`kill`, a CI cancel, `timeout`) still leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

HANDLED = (signal.SIGINT, signal.SIGTERM)
# How long a child gets to stop after the forwarded SIGINT (terraform writes its state) before
# the group is killed.
GRACE_SECONDS = 20.0
# Everything after a signal (stopping the child, destroying, removing) ends within 60 s: what is
# not destroyed by then is named instead, with the command that removes it.
CLEANUP_BUDGET_SECONDS = 50.0


class Interrupted(BaseException):
    """The command received SIGINT or SIGTERM (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signals: list[int] = []
        self.first_signal_at: float | None = None
        self.children: set[subprocess.Popen[str]] = set()
        self.left: list[str] = []
        self.installed = False


_state = _State()


def received() -> int | None:
    """The first signal received under the guard, if any."""
    return _state.signals[0] if _state.signals else None


def budget_left() -> float | None:
    """Seconds of the cleanup budget still left after a signal (None: no signal yet)."""
    if _state.first_signal_at is None:
        return None
    return max(0.0, CLEANUP_BUDGET_SECONDS - (time.monotonic() - _state.first_signal_at))


def aborted() -> bool:
    """A second signal came during the cleanup: start nothing new, report what is left."""
    return len(_state.signals) >= 2


def leave(message: str) -> None:
    """Record something the cleanup could not remove, with the command that removes it."""
    with _state.lock:
        _state.left.append(message)


def left_behind() -> list[str]:
    with _state.lock:
        return list(_state.left)


def notice(message: str) -> None:
    """One line on stderr, unbuffered (progress while cleaning up, after a signal)."""
    with suppress(OSError):
        sys.stderr.write(f"catalog: {message}\n")
        sys.stderr.flush()


def _handle(signum: int, _frame: object) -> None:
    _state.signals.append(signum)
    name = signal.Signals(signum).name
    if len(_state.signals) == 1:
        _state.first_signal_at = time.monotonic()
        notice(f"{name} received: cleaning up (a second signal skips what is not done yet)")
        raise Interrupted(signum)
    notice(f"second signal ({name}): stopping the running child now; what is left will be named")
    with _state.lock:
        children = list(_state.children)
    for child in children:
        _signal_group(child, signal.SIGKILL)


@contextmanager
def guard() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as above while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or _state.installed:
        yield
        return
    previous = {signum: signal.signal(signum, _handle) for signum in HANDLED}
    _state.installed = True
    _state.signals.clear()
    _state.first_signal_at = None
    _state.left.clear()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.installed = False


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a child in its own process group; on any exception stop the group, then re-raise.

    `on_line` sees every output line as it comes (progress). `timeout`: stop the child after
    that many seconds and raise subprocess.TimeoutExpired. The group is killed after the child
    exits too: a plugin that outlived its parent is still ours.
    """
    process = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_drain, args=(process.stdout, out, on_line), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, err, on_line), daemon=True),
    ]
    try:
        with _state.lock:
            _state.children.add(process)
        for reader in readers:
            reader.start()
        if aborted():
            _signal_group(process, signal.SIGKILL)
        code = process.wait(timeout)
    except BaseException:
        budget = budget_left()
        # After a signal the grace comes out of the cleanup budget (a few seconds at least,
        # so terraform can write its state).
        stop(process, grace=GRACE_SECONDS if budget is None else min(GRACE_SECONDS, budget + 5))
        raise
    finally:
        _signal_group(process, signal.SIGKILL)
        for reader in readers:
            if reader.ident is not None:  # started
                reader.join(5)
        with _state.lock:
            _state.children.discard(process)
    return subprocess.CompletedProcess(list(cmd), code, "".join(out), "".join(err))


def stop(process: subprocess.Popen[str], grace: float = GRACE_SECONDS) -> None:
    """Forward SIGINT to the group (terraform stops gracefully and writes its state), wait up to
    `grace` seconds, then kill the group."""
    _signal_group(process, signal.SIGINT)
    with suppress(BaseException):  # timeout, or an interrupt without the guard: no more grace
        process.wait(grace)
    _signal_group(process, signal.SIGKILL)
    with suppress(BaseException):
        process.wait(5)


def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _drain(stream: IO[str] | None, sink: list[str], on_line: Callable[[str], None] | None) -> None:
    if stream is None:
        return
    for line in stream:
        sink.append(line)
        if on_line is not None:
            with suppress(Exception):  # progress must never break the run
                on_line(line.rstrip("\n"))
    stream.close()


@contextmanager
def deferred() -> Iterator[None]:
    """Bookkeeping that must not be cut in half (removing a workspace): a first signal that
    arrives inside is raised when the block ends."""
    if not _state.installed or _state.signals:
        yield
        return
    pending: list[int] = []
    previous = {
        signum: signal.signal(signum, lambda s, _f: pending.append(s)) for signum in HANDLED
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            _handle(pending[0], None)
