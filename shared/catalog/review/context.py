"""One pattern folder as the rules see it: its files (git-aware), cached text, and notices."""

from __future__ import annotations

import ast
import errno
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from .model import RULES, Finding, Notice, rule

rule(
    "READ001",
    "unreadable",
    "error",
    "a file the review must read cannot be read or parsed",
    "terraform/main.tf: Terraform not analysed: cannot parse HCL (Unexpected token '}' at line 4)",
)
rule(
    "READ002",
    "unreadable",
    "error",
    "nothing to review: an empty pattern folder, a path without patterns, or changed patterns "
    "of which none could be reviewed",
    "orders-sam/ is empty",
)

MAX_BYTES = 1 << 20  # larger files are skipped with a notice
# Folders never descended into: dependency, build and editor folders (repo hygiene reports them).
JUNK_DIRS = frozenset(
    {
        "node_modules",
        ".terraform",
        "cdk.out",
        ".aws-sam",
        "__pycache__",
        ".venv",
        "venv",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".serverless",
        ".gradle",
        ".idea",
        ".vscode",
        ".settings",
        ".pulumi",
        "dist",
    }
)
SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
# Build output inside a pattern (bundles, compiled code): not read as hand-written source.
BUILD_OUTPUT_DIRS = frozenset(
    {"dist", "build", ".build", "out", "target", "obj", "bundle", "vendor"}
)


@dataclass
class Listing:
    files: list[str] = field(default_factory=list)  # posix paths relative to the pattern root
    junk_dirs: list[str] = field(default_factory=list)
    junk_first: dict[str, str] = field(default_factory=dict)  # junk folder -> a file inside it
    notes: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)


def git_toplevel(path: Path) -> Path | None:
    """The work tree holding `path`, or None when it is not in one (or git is missing)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def git_files(path: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files below `path`, relative to it."""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(path),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    names = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({n for n in names if n})


def split_junk(paths: Iterable[str], listing: Listing) -> None:
    """Files below a junk folder become one junk entry; the others are the pattern's files."""
    junk: set[str] = set()
    for rel in paths:
        parts = PurePosixPath(rel).parts
        hit = next((i for i, part in enumerate(parts[:-1]) if part in JUNK_DIRS), None)
        if hit is None:
            listing.files.append(rel)
        else:
            folder = "/".join(parts[: hit + 1])
            junk.add(folder)
            if rel < listing.junk_first.get(folder, "\uffff"):
                listing.junk_first[folder] = rel
    listing.junk_dirs.extend(sorted(junk))


def walk(root: Path) -> Listing:
    """Every file below `root` without git: symlinked folders are followed once, loops reported."""
    listing = Listing()
    seen: set[tuple[int, int]] = set()
    try:
        st = root.stat()
        seen.add((st.st_dev, st.st_ino))
    except OSError as exc:
        listing.notes.append((".", f"unreadable folder: {exc.strerror or exc}"))
        return listing
    root_real = root.resolve()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            listing.notes.append((prefix or ".", f"unreadable folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as exc:
                is_dir = False
                if exc.errno == errno.ELOOP:
                    listing.notes.append((rel, "symlink loop: not followed"))
                    continue
            if not is_dir:
                if entry.is_symlink() and not os.path.exists(entry.path):
                    try:
                        os.stat(entry.path)
                    except OSError as exc:
                        reason = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
                        listing.notes.append((rel, f"{reason}: not analysed"))
                        continue
                listing.files.append(rel)
                continue
            if entry.name in SKIP_DIRS:
                continue
            if entry.name in JUNK_DIRS:
                listing.junk_dirs.append(rel)
                first = _first_file(Path(entry.path))
                if first is not None:
                    listing.junk_first[rel] = f"{rel}/{first}"
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                listing.notes.append((rel, f"unreadable folder: {exc.strerror or exc}"))
                continue
            key = (st.st_dev, st.st_ino)
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root_real):
                    listing.notes.append((rel, "symlink leaves the pattern folder: not followed"))
                    continue
                if key in seen or target == root_real:
                    listing.notes.append(
                        (rel, f"symlink loop: points back to {target.name}/, not followed")
                    )
                    continue
            if key in seen:
                listing.notes.append((rel, "folder reached twice (symlink loop): not followed"))
                continue
            seen.add(key)
            stack.append((Path(entry.path), rel + "/"))
    listing.files.sort()
    listing.junk_dirs.sort()
    return listing


def _first_file(folder: Path) -> str | None:
    """The first file below `folder` in name order (relative), without walking all of it."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: (e.is_dir(), e.name))
    except OSError:
        return None
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                return entry.name
            inner = _first_file(Path(entry.path))
        except (OSError, RecursionError):
            continue
        if inner is not None:
            return f"{entry.name}/{inner}"
    return None


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


class PatternContext:
    """What a rule gets: the folder, its files and helpers that never raise on bad content."""

    def __init__(
        self,
        root: Path,
        listing: Listing,
        *,
        cwd: Path,
        in_git: bool,
        flavour: str,
    ) -> None:
        self.root = root
        self.name = root.name
        self.files = listing.files
        self.junk_dirs = listing.junk_dirs
        self.junk_first = listing.junk_first
        self.in_git = in_git
        self.flavour = flavour  # "catalog" (this repo's patterns/) or "public"
        self.cwd = cwd
        self.findings: list[Finding] = []
        self.notices: list[Notice] = []
        self._noted: set[str] = set()
        self._text: dict[str, str | None] = {}
        self.cache: dict[str, Any] = {}  # parsed models shared between rules
        for rel, reason in listing.notes:
            self.note(rel, reason)

    # ------------------------------------------------------------------ paths
    def path(self, rel: str) -> Path:
        return self.root / rel

    def display(self, rel: str | Path) -> str:
        path = rel if isinstance(rel, Path) and rel.is_absolute() else self.root / rel
        return display_path(Path(os.path.normpath(path)), self.cwd)

    @cached_property
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    def with_suffix(self, *suffixes: str) -> list[str]:
        return [f for f in self.files if f.lower().endswith(suffixes)]

    def visible(self, rel: str) -> bool:
        """Not inside a hidden folder (.aws-composer/, .github/, ...): not deployed, not reviewed."""
        return not any(part.startswith(".") for part in rel.split("/")[:-1])

    def code_files(self, *suffixes: str) -> list[str]:
        return [f for f in self.with_suffix(*suffixes) if self.visible(f)]

    @cached_property
    def vendored_dirs(self) -> dict[str, str]:
        """Folders of third-party code -> the folder they are listed under once as skipped:
        the packages beside a `*.dist-info`/`*.egg-info` (site-packages-like trees; code files
        right in that folder stay reviewed), `site-packages`, Lambda layer contents (`python/`,
        `nodejs/` below a folder named like a layer) and build output (dist, build, vendor...)."""
        found: dict[str, str] = {}
        site_roots: set[str] = set()
        for rel in self.files:
            parts = rel.split("/")[:-1]
            for i, part in enumerate(parts):
                if part.endswith((".dist-info", ".egg-info")):
                    site_roots.add("/".join(parts[:i]))
                    break
                if (
                    part == "site-packages"
                    or part in BUILD_OUTPUT_DIRS
                    or (
                        part in ("python", "nodejs")
                        and any("layer" in p.lower() for p in parts[:i])
                    )
                ):
                    folder = "/".join(parts[: i + 1])
                    found[folder] = folder
                    break
        for rel in self.files:
            parts = rel.split("/")
            for root in site_roots:
                depth = len(root.split("/")) if root else 0
                if (not root or rel.startswith(f"{root}/")) and len(parts) > depth + 1:
                    found.setdefault("/".join(parts[: depth + 1]), root or ".")
        return found

    def vendored(self, rel: str) -> str | None:
        """The folder `rel` is vendored under (as listed), or None for the pattern's own code."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            listed = self.vendored_dirs.get("/".join(parts[:i]))
            if listed is not None:
                return listed
        return None

    def source_files(self, *suffixes: str) -> list[str]:
        """Hand-written code: not vendored third-party trees, not minified bundles. Each vendored
        folder is listed once as skipped."""
        out = []
        for f in self.code_files(*suffixes):
            if ".min." in f.rsplit("/", 1)[-1]:
                continue
            listed = self.vendored(f)
            if listed is not None:
                self.note(listed, "vendored third-party code or build output: code rules skipped")
                continue
            out.append(f)
        return out

    def named(self, *names: str) -> list[str]:
        return [f for f in self.files if PurePosixPath(f).name in names]

    def top_level(self) -> list[str]:
        return [f for f in self.files if "/" not in f]

    # ------------------------------------------------------------------ reading
    def note(self, rel: str, reason: str) -> None:
        if rel in self._noted:
            return
        self._noted.add(rel)
        self.notices.append(Notice(self.name, self.display(rel), self.relative(reason)))

    def relative(self, text: str) -> str:
        """Paths inside a message relative to the pattern folder: no absolute paths leak out."""
        return text.replace(f"{self.root.resolve()}/", "").replace(f"{self.root}/", "")

    def unreadable(self, rel: str, reason: str, line: int | None = None) -> None:
        """What the review cannot read is a finding (READ001), once per file."""
        if rel in self._noted:
            return
        self._noted.add(rel)
        self.report(
            "READ001",
            rel,
            line,
            self.relative(reason),
            "fix the file (or delete it): the review cannot check what it cannot read",
        )

    def read_text(self, rel: str) -> str | None:
        """The file as text, or None (with a notice) when missing, binary, huge or unreadable."""
        if rel in self._text:
            return self._text[rel]
        self._text[rel] = text = self._read(rel)
        return text

    def _read(self, rel: str) -> str | None:
        path = self.root / rel
        try:
            st = path.stat()
            if path.is_dir():
                self.note(rel, "expected a file, found a folder: not analysed")
                return None
            if st.st_size > MAX_BYTES:
                self.note(rel, f"larger than 1 MiB ({st.st_size} bytes): skipped")
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.unreadable(rel, "symlink loop: not analysed")
            else:
                self.unreadable(rel, f"unreadable: {exc.strerror or exc}")
            return None
        if b"\0" in data[:8192]:
            self.unreadable(rel, "binary file where text is expected: not analysed")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.unreadable(rel, f"not UTF-8 text ({exc.reason} at byte {exc.start}): not analysed")
            return None

    def python_ast(self, rel: str) -> ast.Module | None:
        """The parsed module (cached; None with a notice on a syntax error)."""
        key = f"ast:{rel}"
        if key not in self.cache:
            text = self.read_text(rel)
            tree = None
            if text is not None:
                try:
                    tree = ast.parse(text)
                except (SyntaxError, ValueError) as exc:
                    line = exc.lineno if isinstance(exc, SyntaxError) else None
                    self.unreadable(rel, f"Python syntax error: not analysed ({exc})", line)
            self.cache[key] = tree
        return self.cache[key]  # type: ignore[no-any-return]

    def file_for(self, rel: str | Path) -> str | Path:
        """A finding points at a file, never a folder: a junk folder's first file; for the
        pattern itself its README, else its metadata, else its first file."""
        path = rel if isinstance(rel, Path) else self.root / rel
        key = os.path.relpath(path, self.root).replace(os.sep, "/")
        if key in self.junk_first:
            return self.junk_first[key]
        if not path.is_dir():
            return rel
        inside = [f for f in self.files if key == "." or f.startswith(f"{key}/")]
        if key == ".":
            top = [f for f in inside if "/" not in f]
            preferred = [f for f in top if f.lower() == "readme.md"]
            preferred += [f for f in top if f.endswith(".json") and f != "package.json"]
            inside = preferred + top + inside
        return inside[0] if inside else rel

    # ------------------------------------------------------------------ reporting
    def report(
        self,
        rule_id: str,
        rel: str | Path | None,
        line: int | None,
        message: str,
        hint: str = "",
        *,
        category: str | None = None,
    ) -> None:
        spec = RULES[rule_id]
        where = self.display(self.file_for(rel if rel is not None else "."))
        self.findings.append(
            Finding(
                pattern=self.name,
                path=where,
                line=line,
                rule=rule_id,
                category=category or spec.category,
                severity=spec.severity,
                message=message,
                hint=hint,
            )
        )
