"""Load the handler of a DEPLOYED function (the zip moto stores) under a package name of its own.

The catalog's packages use relative imports for their own modules, so a zip extracted to
`<dir>/sfn_saga/...` can be imported as `_catalog_fn_<sha12>_<instance>.sfn_saga...` through a
synthetic parent package whose `__path__` is `<dir>`. The extract dir is never put on sys.path:
third-party imports resolve from the local environment, because the zip vendors wheels built for
the Lambda platform that may not import here. Two functions with the same package name but
different code (or config) thus never run each other's code. The function's layers are extracted
in order into one `/opt` of its own; what its code may import is its zip, those layers and the
runtime's packages, as on Lambda (`import_path`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import io
import json
import shutil
import sys
import tempfile
import threading
import types
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from .import_path import REGISTRY, import_path

PACKAGE_PREFIX = "_catalog_fn_"

Handler = Callable[[Any, Any], Any]


class LoadError(Exception):
    """The handler could not be loaded; carries the Lambda runtime's error type."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def instance_key(function: Any) -> str:
    """One 'execution environment' per function ARN, code, handler and environment.

    Real Lambda gives each function (and each config change) fresh containers, so module-level
    state (a table name read at import time) must not be shared across them even when two
    deployments of a pattern ship byte-identical zips.
    """
    identity = json.dumps(
        [
            function.function_arn,
            getattr(function, "code_digest", ""),
            function.handler,
            sorted((function.environment_vars or {}).items()),
        ]
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:8]


class CodeLoader:
    """Extracts each code sha once and imports each function instance once."""

    def __init__(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="catalog-localaws-"))
        self._lock = threading.Lock()
        self._named_locks: dict[str, threading.Lock] = {}
        self._handlers: dict[str, Handler] = {}

    def load(self, function: Any) -> Handler:
        """The handler of this function instance; imported (and extracted) on first use.

        Call it with the function's environment applied: module-level code runs here.
        Raises LoadError.
        """
        key = f"{_code_sha(function)[:12]}_{instance_key(function)}"
        with self._lock:
            cached = self._handlers.get(key)
            if cached is not None:
                return cached
        # Serialize the first load per instance; other functions load in parallel.
        with self._lock_for("instance:" + key):
            cached = self._handlers.get(key)
            if cached is None:
                extract_dir = self.extract(function)
                package = PACKAGE_PREFIX + key
                REGISTRY.register(package, import_path(extract_dir, self.extract_layers(function)))
                with REGISTRY.active(package):
                    cached = _import_handler(package, extract_dir, function.handler)
                with self._lock:
                    self._handlers[key] = cached
            return cached

    @contextmanager
    def running(self, function: Any) -> Iterator[None]:
        """While a handler runs: what it imports late resolves on its own import path."""
        with REGISTRY.active(
            f"{PACKAGE_PREFIX}{_code_sha(function)[:12]}_{instance_key(function)}"
        ):
            yield

    def forget_loaded(self) -> None:
        """Drop imported handlers (a reset starts every function cold); keep the extracts."""
        with self._lock:
            self._handlers.clear()
        names = [n for n in sys.modules if n.startswith(PACKAGE_PREFIX)]
        for name in names:
            sys.modules.pop(name, None)
        REGISTRY.forget({n.partition(".")[0] for n in names})
        # Modules only a layer provided were imported from the extracts under their own names.
        extracted = str(self._workdir) + "/"
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(extracted):
                sys.modules.pop(name, None)
        importlib.invalidate_caches()

    def extract_layers(self, function: Any) -> Path | None:
        """The function's `/opt`: its layer versions' zips extracted in order (a later layer's
        files replace an earlier one's, as on Lambda); None without layers."""
        arns = [str(layer["Arn"]) for layer in getattr(function, "layers", None) or []]
        if not arns:
            return None
        versions = [_layer_version(function, arn) for arn in arns]
        shas = [str(v.code_sha_256) for v in versions]
        target = self._workdir / ("opt-" + hashlib.sha256(" ".join(shas).encode()).hexdigest()[:16])
        with self._lock_for("opt:" + target.name):
            if target.is_dir():
                return target
            staging = Path(tempfile.mkdtemp(prefix="opt-", dir=self._workdir))
            try:
                for arn, version in zip(arns, versions, strict=True):
                    _extract(version.code_bytes, staging, f"layer {arn}")
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            staging.rename(target)
            return target

    def close(self) -> None:
        self.forget_loaded()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def extract(self, function: Any) -> Path:
        """The directory holding this function's code, extracted once per code sha."""
        sha = _code_sha(function)
        target = self._workdir / sha[:16]
        with self._lock_for("sha:" + sha):
            if target.is_dir():
                return target
            code = getattr(function, "code_bytes", b"")
            if not code:
                raise LoadError("Runtime.InvalidZipFileException", "function has no code stored")
            staging = Path(tempfile.mkdtemp(prefix="extract-", dir=self._workdir))
            try:
                _extract(code, staging, "function code")
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            staging.rename(target)
            return target

    def _lock_for(self, name: str) -> threading.Lock:
        with self._lock:
            return self._named_locks.setdefault(name, threading.Lock())


def _extract(code: bytes, target: Path, what: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(target)
    except zipfile.BadZipFile as exc:
        raise LoadError("Runtime.InvalidZipFileException", f"{what}: {exc}") from exc


def _layer_version(function: Any, arn: str) -> Any:
    """The stored layer version (moto keeps its zip); a version deleted since is an error."""
    from moto.awslambda.models import lambda_backends

    version = lambda_backends[function.account_id][function.region].layers_versions_by_arn(arn)
    if version is None or not getattr(version, "code_bytes", b""):
        raise LoadError("Catalog.LayerUnavailable", f"layer version {arn} has no stored content")
    return version


def _code_sha(function: Any) -> str:
    digest = getattr(function, "code_digest", None)
    if digest:
        return str(digest)
    return hashlib.sha256(getattr(function, "code_bytes", b"")).hexdigest()


def _import_handler(package: str, extract_dir: Path, handler_spec: str | None) -> Handler:
    module_path, _, attr = (handler_spec or "").rpartition(".")
    if not module_path or not attr:
        raise LoadError("Runtime.MalformedHandlerName", f"Bad handler '{handler_spec}'")
    parent = types.ModuleType(package, "synthetic parent of one deployed function's code")
    spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
    spec.submodule_search_locations = [str(extract_dir)]
    parent.__spec__ = spec
    parent.__path__ = [str(extract_dir)]
    parent.__package__ = package
    sys.modules[package] = parent
    try:
        module = importlib.import_module(f"{package}.{module_path}")
    except Exception as exc:
        # Leave no half-imported modules behind: a later attempt must start clean.
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            sys.modules.pop(name, None)
        raise LoadError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}"
        ) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise LoadError(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_path}'"
        )
    return cast(Handler, handler)
