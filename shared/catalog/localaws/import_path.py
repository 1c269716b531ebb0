"""What a deployed function can import, as on Lambda: its code, its layers, the runtime's boto3.

On Lambda a Python function's import path is `/var/task` (its zip), then its layers, extracted in
order into `/opt` (`/opt/python/lib/python3.X/site-packages`, `/opt/python`), then the runtime's
own packages (boto3 and what it needs). A function that imports a package none of these hold
fails its cold start with `Runtime.ImportModuleError`.

In-process, modules come from this interpreter (a zip or layer built for the Lambda platform may
vendor compiled wheels that cannot load here), so the path is emulated in two parts:
- a gate on `import` statements in a function's own code (its modules live under the synthetic
  package `codeload` made for it): a top-level name that neither its zip, its layers, the runtime
  nor the standard library provides raises ModuleNotFoundError, as on Lambda, even when this
  interpreter has it installed or another function imported it before;
- a finder after every other one: a name that only the function's zip or layers hold (nothing
  installed here) is imported from there, so the layer's content is really on the path. Such a
  module is shared by the process once imported (like every module here): two functions whose
  layers hold different code under one module name are not told apart until `LocalAws.reset()`.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# What the Lambda Python runtime ships besides the standard library (boto3 and its dependencies).
RUNTIME_PACKAGES = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
)
LAMBDA_PYTHON = "python3.13"


@dataclass(frozen=True)
class ImportPath:
    """One function instance's import path: the folders in Lambda's order and the names in them."""

    directories: tuple[str, ...]
    names: frozenset[str]

    def provides(self, top: str) -> bool:
        return top in self.names or top in RUNTIME_PACKAGES or top in sys.stdlib_module_names


def layer_directories(opt: Path) -> list[Path]:
    """The folders of an extracted `/opt` that Lambda puts on sys.path, in its order."""
    return [opt / "python" / "lib" / LAMBDA_PYTHON / "site-packages", opt / "python"]


def import_path(task_root: Path, opt: Path | None) -> ImportPath:
    directories = [task_root, *(layer_directories(opt) if opt is not None else [])]
    names = frozenset(name for d in directories for name in _top_level_names(d))
    return ImportPath(tuple(str(d) for d in directories), names)


def _top_level_names(directory: Path) -> Iterator[str]:
    if not directory.is_dir():
        return
    suffixes = tuple(importlib.machinery.all_suffixes())
    for entry in directory.iterdir():
        if entry.is_dir() and entry.name.isidentifier():
            yield entry.name  # a package, or a namespace package
        elif entry.is_file() and entry.name.endswith(suffixes):
            yield entry.name.split(".", 1)[0]


class _Registry:
    """Synthetic package name -> its import path; the gate and the finder read it."""

    def __init__(self) -> None:
        self._paths: dict[str, ImportPath] = {}
        self._lock = threading.Lock()
        self._current = threading.local()
        self._installed = False

    def register(self, package: str, path: ImportPath) -> None:
        with self._lock:
            self._paths[package] = path
            if not self._installed:
                self._original_import = builtins.__import__
                builtins.__import__ = self._gated_import
                sys.meta_path.append(_LayerFinder(self))
                self._installed = True

    def forget(self, packages: Iterable[str]) -> None:
        with self._lock:
            for package in packages:
                self._paths.pop(package, None)

    def path_of(self, package: str) -> ImportPath | None:
        return self._paths.get(package)

    @contextmanager
    def active(self, package: str) -> Iterator[None]:
        """Imports made meanwhile in this thread (by any module) may use the function's path."""
        stack: list[str] = self._current.__dict__.setdefault("stack", [])
        stack.append(package)
        try:
            yield
        finally:
            stack.pop()

    def current(self) -> ImportPath | None:
        stack = self._current.__dict__.get("stack")
        return self._paths.get(stack[-1]) if stack else None

    def _gated_import(
        self,
        name: str,
        globals: dict[str, Any] | None = None,
        locals: Any = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> ModuleType:
        importer = (globals or {}).get("__name__") or ""
        package = importer.partition(".")[0]
        path = self._paths.get(package) if level == 0 and package else None
        if path is None:
            return self._original_import(name, globals, locals, fromlist, level)
        top = name.partition(".")[0]
        if not path.provides(top):
            raise ModuleNotFoundError(f"No module named '{top}'", name=top)
        with self.active(package):
            return self._original_import(name, globals, locals, fromlist, level)


class _LayerFinder(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: a top-level module nothing installed here provides, found in the
    importing function's zip or layers."""

    def __init__(self, registry: _Registry) -> None:
        self._registry = registry

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if path is not None:
            return None  # a submodule: its package's __path__ already points into the layer
        current = self._registry.current()
        if current is None or fullname not in current.names:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, list(current.directories))


REGISTRY = _Registry()
