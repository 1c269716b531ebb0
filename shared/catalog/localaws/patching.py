"""Reversible monkey patches: every patch the embedded AWS applies is undone on stop."""

from __future__ import annotations

from typing import Any

_MISSING = object()


class Patches:
    """A stack of attribute replacements, undone in reverse order."""

    def __init__(self) -> None:
        self._undo: list[tuple[object, str, Any]] = []

    def set(self, target: object, name: str, value: Any) -> None:
        # Look in the object's own namespace, not the MRO: undoing must restore exactly what was
        # there (or remove what was not), so an inherited attribute is never copied down.
        namespace = vars(target)
        self._undo.append((target, name, namespace.get(name, _MISSING)))
        setattr(target, name, value)

    def undo_all(self) -> None:
        while self._undo:
            target, name, previous = self._undo.pop()
            if previous is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, previous)
