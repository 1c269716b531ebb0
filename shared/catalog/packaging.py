"""Deterministic Lambda packages, one zip per function, shared by Pulumi, Terraform and the CLI.

Standard library only: `catalog export` vendors this very file into a standalone pattern folder,
whose `build.py` then builds the same bytes as `catalog build`.

The layout (shared/README.md): `src/<package>/functions/<fn>.py` is a
function, the rest of `src/<package>/` is code the functions share, `src/requirements.txt` lists the
third-party packages the functions import, and `src/requirements.lock` pins them and everything they
pull in, with hashes, resolved for the Lambda platform: the lock is what gets installed.

Where the lock goes is the pattern's choice (`catalog.dependencies` in example-pattern.json):
into every function zip (`function`, the default), or once into `build/layer.zip`, a Lambda layer
the pattern's IaC declares (`layer`), under `python/` (which Lambda puts on the import path as
/opt/python); each function zip then holds only the pattern's own code.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from . import interrupts

LAMBDA_RUNTIME = "python3.13"
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_PLATFORM = "x86_64-manylinux2014"
# Fixed metadata so that the same sources always give byte-identical archives.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = {"__pycache__", "bin"}  # bin/: console scripts carry the builder's interpreter path
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# What the installer writes about itself (pip and uv differ): not part of the installed package.
_INSTALLER_RECORDS = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REQUIREMENTS = "requirements.txt"
METADATA = "example-pattern.json"
LAYER_ZIP = "layer.zip"
# Lambda's Python runtimes put /opt/python on sys.path; a layer zip is extracted into /opt.
LAYER_PYTHON_DIR = "python"
LOCK = "requirements.lock"
# How a lock is made (run in src/); the same command is in the lock's own header.
LOCK_COMMAND = (
    f"uv pip compile {REQUIREMENTS} -o {LOCK} --python-platform {LAMBDA_PLATFORM}"
    f" --python-version {LAMBDA_PYTHON_VERSION} --generate-hashes --no-config"
)
# `name[extras]==version` or `name \` in requirement and lock lines (PEP 508, pinned subset).
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;\\]+))?")


class PackagingError(Exception):
    """A pattern's sources cannot be packaged; the message says why."""


class CacheUnusable(PackagingError):
    """The dependency cache folder (CATALOG_CACHE_DIR) cannot be used."""


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function of a pattern, derived from `src/<package>/functions/<module>.py`."""

    name: str  # charge-payment
    package: str  # sfn_saga
    module: str  # charge_payment

    @property
    def handler(self) -> str:
        return f"{self.package}.functions.{self.module}.handler"

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"


def find_package(src_dir: Path) -> Path:
    """The pattern's single code package: the folder in src/ that has a `functions/` package."""
    candidates = (
        sorted(
            p
            for p in src_dir.iterdir()
            if (p / "__init__.py").is_file() and (p / "functions").is_dir()
        )
        if src_dir.is_dir()
        else []
    )
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise PackagingError(
            f"{src_dir}: expected exactly one package with a functions/ folder, found {found}"
        )
    return candidates[0]


def function_specs(pattern_dir: Path) -> list[FunctionSpec]:
    package = find_package(pattern_dir / "src")
    modules = sorted(p.stem for p in (package / "functions").glob("*.py") if p.stem != "__init__")
    if not modules:
        raise PackagingError(f"{package}/functions: no function modules")
    return [FunctionSpec(m.replace("_", "-"), package.name, m) for m in modules]


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Replace `${Name}` like Terraform's templatefile does; a missing value is an error."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise PackagingError(f"template placeholder ${{{key}}} has no value")
        return values[key]

    return _PLACEHOLDER.sub(substitute, text)


def dependencies_in_layer(pattern_dir: Path) -> bool:
    """True when the pattern ships its locked dependencies as one layer (`catalog.dependencies`)."""
    metadata = pattern_dir / METADATA
    try:
        document = json.loads(metadata.read_text())
    except (OSError, ValueError) as exc:
        raise PackagingError(f"{metadata}: cannot be read as JSON ({exc})") from exc
    catalog = document.get("catalog") if isinstance(document, dict) else None
    where = catalog.get("dependencies", "function") if isinstance(catalog, dict) else "function"
    if where not in ("function", "layer"):
        raise PackagingError(f"{metadata}: catalog.dependencies must be function or layer")
    return where == "layer"


def build_pattern(pattern_dir: Path, out_dir: Path | None = None) -> dict[str, Path]:
    """Build `<out_dir>/<function>.zip` for every function; returns function name -> zip path.

    A pattern whose dependencies ship as a layer also gets `<out_dir>/layer.zip` (`build_layer`).
    Safe to run many times at once on one folder: each zip is written under a unique temporary
    name and renamed into place, and builds of one folder take turns (a lock in the folder).
    """
    pattern_dir = pattern_dir.resolve()
    out_dir = (out_dir or pattern_dir / "build").resolve()
    specs = function_specs(pattern_dir)
    package = find_package(pattern_dir / "src")
    in_layer = dependencies_in_layer(pattern_dir)
    if in_layer and any(spec.zip_name == LAYER_ZIP for spec in specs):
        raise PackagingError(
            f"{package}/functions: a function named layer clashes with {LAYER_ZIP}"
        )
    _make_output_dir(out_dir)
    deps = _dependency_entries(pattern_dir)
    built: dict[str, Path] = {}
    with exclusive(out_dir / LOCK_FILE, wait=True):
        if in_layer:
            _write_if_changed(out_dir / LAYER_ZIP, _layer_entries(pattern_dir, deps))
        for spec in specs:
            entries = [] if in_layer else list(deps)
            entries += [
                (arc, path)
                for arc, path in _tree_entries(package, package.name)
                if not _is_other_function(arc, spec)
            ]
            _write_if_changed(out_dir / spec.zip_name, entries)
            built[spec.name] = out_dir / spec.zip_name
    return built


def build_layer(pattern_dir: Path, out_dir: Path | None = None) -> Path:
    """Build (or reuse) `<out_dir>/layer.zip`: the pattern's locked dependencies under python/.

    For a pattern with `catalog.dependencies` = `layer`; same lock, same bytes.
    """
    pattern_dir = pattern_dir.resolve()
    out_dir = (out_dir or pattern_dir / "build").resolve()
    if not dependencies_in_layer(pattern_dir):
        raise PackagingError(
            f"{pattern_dir / METADATA}: catalog.dependencies is not layer, so there is no layer"
        )
    _make_output_dir(out_dir)
    deps = _dependency_entries(pattern_dir)
    with exclusive(out_dir / LOCK_FILE, wait=True):
        _write_if_changed(out_dir / LAYER_ZIP, _layer_entries(pattern_dir, deps))
    return out_dir / LAYER_ZIP


def _dependency_entries(pattern_dir: Path) -> list[tuple[str, Path]]:
    """The installed lock as zip entries at the top (empty when nothing is pinned)."""
    src = pattern_dir / "src"
    deps = install_requirements(src / REQUIREMENTS, src / LOCK)
    # Dotfiles at the top are the cache's own (`.complete`) and uv's (`.lock`), not packages.
    return [e for e in _tree_entries(deps, "") if not e[0].startswith(".")] if deps else []


def _layer_entries(pattern_dir: Path, deps: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    if not deps:
        raise PackagingError(
            f"{pattern_dir / 'src' / REQUIREMENTS}: pins nothing, so a dependencies layer would be empty"
        )
    return [(f"{LAYER_PYTHON_DIR}/{arc}", path) for arc, path in deps]


def _write_if_changed(target: Path, entries: list[tuple[str, Path]]) -> None:
    """Same inputs, same bytes: a zip built from exactly these files is not rebuilt."""
    stamp = target.parent / f".{target.name}.inputs"
    digest = _inputs_digest(entries)
    if not (target.is_file() and stamp.is_file() and stamp.read_text() == digest):
        write_deterministic_zip(target, entries)
        stamp.write_text(digest)


def _make_output_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise PackagingError(f"output folder {out_dir} exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackagingError(f"cannot create output folder {out_dir}: {exc.strerror}") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise PackagingError(f"output folder {out_dir} is not writable")


LOCK_FILE = ".catalog.lock"


class Busy(Exception):
    """Another catalog run holds the lock; the message names the folder and that run."""


@contextmanager
def exclusive(lock_path: Path, *, wait: bool) -> Iterator[None]:
    """An fcntl lock on `lock_path` for the block; the file is removed on release.

    `wait=False` refuses at once (Busy) when another process holds it. Removing the file
    before unlocking is safe: a waiter that locked the old file sees it is gone and retries.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PackagingError(f"cannot create lock {lock_path}: {exc.strerror}") from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _read_holder(lock_path)
            os.close(descriptor)
            raise Busy(
                f"another catalog run ({holder}) is using {lock_path.parent}; "
                "wait for it to finish or stop it"
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        try:
            same = os.fstat(descriptor).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(descriptor)  # the holder removed the file while we waited: lock the new one
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()}".encode())
        yield
    finally:
        with suppress(FileNotFoundError):
            lock_path.unlink()
        os.close(descriptor)


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.read_text().strip() or "pid unknown"
    except OSError:
        return "pid unknown"


def _is_other_function(arcname: str, spec: FunctionSpec) -> bool:
    prefix = f"{spec.package}/functions/"
    if not arcname.startswith(prefix):
        return False
    rest = arcname[len(prefix) :]
    return rest not in ("__init__.py", f"{spec.module}.py")


def _tree_entries(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for filename in sorted(filenames):
            if filename.endswith(_SKIPPED_SUFFIXES) or (
                filename in _INSTALLER_RECORDS and dirpath.endswith(".dist-info")
            ):
                continue
            path = Path(dirpath) / filename
            rel = path.relative_to(root).as_posix()
            yield (f"{prefix}/{rel}" if prefix else rel), path


def _inputs_digest(entries: list[tuple[str, Path]]) -> str:
    """A digest of every entry's name and content (hashing is far cheaper than deflating)."""
    digest = hashlib.sha256()
    for arcname, path in sorted(entries):
        with path.open("rb") as stream:
            content = hashlib.file_digest(stream, "sha256").digest()
        digest.update(arcname.encode() + b"\0" + content)
    return digest.hexdigest()


def write_deterministic_zip(target: Path, entries: list[tuple[str, Path]]) -> None:
    """Sorted entries, fixed timestamps and permissions: same inputs, same bytes.

    Written under a unique temporary name in the target folder, then renamed into place: a
    concurrent reader sees the old zip or the new one, never half of one.
    """
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with (
            os.fdopen(handle, "wb") as stream,
            zipfile.ZipFile(
                stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
            ) as archive,
        ):
            for arcname, path in sorted(entries):
                info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix, whatever the build host is
                archive.writestr(info, path.read_bytes(), compresslevel=9)
        os.chmod(tmp, 0o644)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def install_requirements(requirements: Path, lock: Path) -> Path | None:
    """Install the lock for the Lambda platform once per lock content (None: nothing to add).

    `requirements` names what the code imports; `lock` must pin each of those at the same version
    (a stale or missing lock is an error naming the command that makes it). Only what the lock
    lists is installed, each file checked against its hashes.
    """
    if not _pins(requirements):
        return None
    check_lock(requirements, lock)
    key = hashlib.sha256(
        "\n".join([LAMBDA_PYTHON_VERSION, LAMBDA_PLATFORM, *_content_lines(lock)]).encode()
    ).hexdigest()[:16]
    cache = _cache_root() / "lambda-deps" / key
    if (cache / ".complete").is_file():
        return cache
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheUnusable(
            f"dependency cache {_cache_root()} (CATALOG_CACHE_DIR) cannot be used: {exc.strerror}"
        ) from exc
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=cache.parent))
    try:
        _run_installer(lock, staging)
        (staging / ".complete").write_text(key)
        try:
            staging.rename(cache)
        except OSError:
            # A concurrent build finished first; its result is identical.
            if not (cache / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache


def check_lock(requirements: Path, lock: Path) -> None:
    """PackagingError unless `lock` pins every package of `requirements` at its version."""
    if not lock.is_file():
        raise PackagingError(f"{lock} is missing: run `{LOCK_COMMAND}` in {lock.parent}")
    locked = _pins(lock)
    stale = sorted(
        name
        for name, version in _pins(requirements).items()
        if name not in locked or (version is not None and locked[name] != version)
    )
    if stale:
        raise PackagingError(
            f"{lock} does not pin {', '.join(stale)} as {requirements.name} does:"
            f" run `{LOCK_COMMAND}` in {lock.parent}"
        )


def _content_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    stripped = (line.strip() for line in path.read_text().splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def _pins(path: Path) -> dict[str, str | None]:
    """Normalized package name -> pinned version (None: not pinned) of a requirements file."""
    pins: dict[str, str | None] = {}
    for line in _content_lines(path):
        match = _REQUIREMENT.match(line)
        if match and not line.startswith("--"):
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def _cache_root() -> Path:
    base = os.environ.get("CATALOG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
        "serverless-pattern-catalog",
    )
    return Path(base)


def _run_installer(lock: Path, target: Path) -> None:
    """Prefer uv (fast); fall back to pip with the same constraints. Hashes checked, no resolving."""
    uv = uv_command()
    if uv:
        cmd = [
            uv,
            "pip",
            "install",
            "--quiet",
            "--no-config",
            "--target",
            str(target),
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--python-platform",
            LAMBDA_PLATFORM,
            "--only-binary",
            ":all:",
            "--no-compile",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(lock),
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(target),
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--no-compile",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(lock),
        ]
    result = interrupts.run(cmd)
    if result.returncode != 0:
        raise PackagingError(
            f"installing {lock} for {LAMBDA_RUNTIME} failed:\n{result.stderr.strip()}"
        )


def uv_command() -> str | None:
    """uv on PATH, else the one installed next to this checkout's tooling (None: use pip)."""
    return shutil.which("uv") or _project_uv()


def _project_uv() -> str | None:
    candidate = Path(__file__).resolve().parents[2] / ".tools" / "uv" / "bin" / "uv"
    return str(candidate) if candidate.is_file() else None
