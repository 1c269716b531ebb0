"""A thread-aware `os.environ`, so concurrent in-process Lambda invocations see only their own
environment variables.

The moto server and Step Functions executions run handlers in many threads at once; writing each
function's variables into the process environment would let one invocation read another's. Instead,
`os.environ` is replaced (once) by a mapping whose reads consult a per-context overlay first.
`os.getenv` reads the module global `os.environ` at call time, so it follows too. Code that bound
`environ` earlier (`from os import environ`) and child processes still see the real environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any

# A ContextVar rather than threading.local: new threads start empty (so server threads never
# inherit an overlay), and asyncio tasks started inside a handler keep the handler's overlay.
# An overlay maps a name to its value, or to None when the invocation removed it.
_OVERLAY: ContextVar[dict[str, str | None] | None] = ContextVar("catalog_env_overlay", default=None)


class ThreadAwareEnviron(MutableMapping[str, str]):
    """`os.environ` stand-in: the real environment plus the current context's overlay."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base

    def __getitem__(self, key: str) -> str:
        overlay = _OVERLAY.get()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is None:
                raise KeyError(key)
            return value
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _OVERLAY.get()
        if overlay is None:
            self.base[key] = value
        else:
            # A handler that sets a variable changes its own sandbox, not the process.
            overlay[key] = str(value)

    def __delitem__(self, key: str) -> None:
        overlay = _OVERLAY.get()
        if overlay is None:
            del self.base[key]
            return
        if key not in self:
            raise KeyError(key)
        overlay[key] = None

    def __iter__(self) -> Iterator[str]:
        overlay = _OVERLAY.get()
        if overlay is None:
            yield from list(self.base)
            return
        for key in list(self.base):
            if key not in overlay:
                yield key
        for key, value in list(overlay.items()):
            if value is not None:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        overlay = _OVERLAY.get()
        if overlay is not None and key in overlay:
            return overlay[key] is not None
        return key in self.base

    # `os._Environ` offers these too; callers (subprocess helpers, tests) use them.
    def copy(self) -> dict[str, str]:
        return dict(self)

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**self, **other}

    def __ror__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**other, **self}

    # In place, like os._Environ: without it `os.environ |= {...}` would rebind os.environ to a
    # plain dict. (mypy wants __ior__ to return what __or__ returns; os._Environ differs too.)
    def __ior__(self, other: Any) -> ThreadAwareEnviron:  # type: ignore[misc]
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"ThreadAwareEnviron({dict(self)!r})"


def install() -> bool:
    """Replace `os.environ` by the thread-aware mapping; False if it already was."""
    if isinstance(os.environ, ThreadAwareEnviron):
        return False
    # Replacing (not clearing) is the point: the real mapping stays underneath as `base`.
    os.environ = ThreadAwareEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003
    return True


def uninstall() -> None:
    """Put the real `os.environ` back (only if ours is still the one installed)."""
    current = os.environ
    if isinstance(current, ThreadAwareEnviron):
        os.environ = current.base  # type: ignore[assignment]  # noqa: B003


@contextlib.contextmanager
def overlay(variables: Mapping[str, str]) -> Iterator[None]:
    """Within the block, this context reads `variables` on top of the real environment."""
    token = _OVERLAY.set({key: str(value) for key, value in variables.items()})
    try:
        yield
    finally:
        _OVERLAY.reset(token)
