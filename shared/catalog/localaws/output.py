"""Handler output goes to the function's log stream, as on Lambda, not to the caller's terminal.

While a LocalAws runs, `sys.stdout` and `sys.stderr` are stand-ins that write to the current
invocation's buffer when there is one (a ContextVar, like the environment overlay) and to the real
stream otherwise. Loggers created during an invocation (Powertools binds `sys.stdout` when a Logger
is made) hold the stand-in, so their later records are captured too.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TextIO

_BUFFER: ContextVar[io.StringIO | None] = ContextVar("catalog_invocation_output", default=None)


class InvocationAwareStream(io.TextIOBase):
    def __init__(self, real: TextIO) -> None:
        self.real = real

    def write(self, text: str) -> int:
        buffer = _BUFFER.get()
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        if _BUFFER.get() is None:
            self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", "utf-8")


def install() -> bool:
    """Replace sys.stdout/stderr once; False when already installed."""
    if isinstance(sys.stdout, InvocationAwareStream):
        return False
    sys.stdout = InvocationAwareStream(sys.stdout)  # type: ignore[assignment]
    sys.stderr = InvocationAwareStream(sys.stderr)  # type: ignore[assignment]
    return True


def uninstall() -> None:
    if isinstance(sys.stdout, InvocationAwareStream):
        sys.stdout = sys.stdout.real
    if isinstance(sys.stderr, InvocationAwareStream):
        sys.stderr = sys.stderr.real


@contextlib.contextmanager
def capture() -> Iterator[io.StringIO]:
    # Something (a test runner's capture) may have swapped the streams since start: wrap again.
    install()
    buffer = io.StringIO()
    token = _BUFFER.set(buffer)
    try:
        yield buffer
    finally:
        _BUFFER.reset(token)
