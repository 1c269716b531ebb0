"""Which folders are patterns, which files are in them, and which IaC frameworks they use."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .context import JUNK_DIRS, Listing, PatternContext, git_files, git_toplevel, split_junk, walk

METADATA_FILE = "example-pattern.json"
ROOT_MARKERS = frozenset(
    {
        METADATA_FILE,
        "template.yaml",
        "template.yml",
        "template.json",
        "cdk.json",
        "Pulumi.yaml",
        "Pulumi.yml",
        "serverless.yml",
        "serverless.yaml",
    }
)
ENGINE_SUBDIRS = ("terraform", "pulumi", "cdk", "sam")
_CFN = re.compile(
    r"AWSTemplateFormatVersion|^Transform\s*:|\"Transform\"\s*:|^Resources\s*:|\"Resources\"\s*:\s*\{",
    re.MULTILINE,
)
_PULUMI_RUNTIME = re.compile(
    r"^runtime[ \t]*:[ \t]*(?:\n[ \t]+name[ \t]*:[ \t]*)?['\"]?([A-Za-z]+)", re.MULTILINE
)
_NOT_TEMPLATES = frozenset(
    {
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "cdk.json",
        "cdk.context.json",
        "samconfig.yaml",
        "samconfig.yml",
        "serverless.yml",
        "serverless.yaml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "buildspec.yml",
        "buildspec.yaml",
        "pnpm-lock.yaml",
        "yarn.lock",
        "composer.json",
        "appsettings.json",
    }
)


class UsageError(Exception):
    """A bad argument: the CLI prints the message and exits 2."""


def is_pattern_dir(path: Path) -> bool:
    try:
        names = {e.name: e for e in os.scandir(path)}
    except OSError:
        return False
    if ROOT_MARKERS & names.keys() or f"{path.name}.json" in names:
        return True
    if any(n.endswith(".tf") for n in names):
        return True
    for sub in ENGINE_SUBDIRS:
        entry = names.get(sub)
        if entry is not None and entry.is_dir():
            return True
    return False


_METADATA_NAMES = re.compile(r"^(?:pattern|pattern-.+|.+-pattern)\.json$")


def is_metadata(path: Path) -> bool:
    """A pattern metadata file under one of the public catalogue's other names: a JSON object
    with a title or a gitHub block (`scripts/pattern-schema.json` is a schema, not metadata)."""
    if not _METADATA_NAMES.match(path.name):
        return False
    try:
        data = json.loads(path.read_bytes()[: 1 << 20])
    except (OSError, ValueError):
        return True  # unreadable metadata is still metadata: the metadata rules report it
    return isinstance(data, dict) and ("title" in data or "gitHub" in data)


def looks_like_pattern(path: Path) -> bool:
    """A pattern folder, or something that is meant to be one: metadata, a README, IaC, an
    empty folder (reviewed, and reported as empty), or a metadata file further down."""
    if is_pattern_dir(path):
        return True
    try:
        entries = list(os.scandir(path))
    except OSError:
        return True
    if not entries:
        return True
    for entry in entries:
        if entry.name.lower() == "readme.md" or is_metadata(Path(entry.path)):
            return True
    return any(METADATA_FILE in files for _, _, files in os.walk(path))


def _children(container: Path) -> list[Path]:
    out = []
    try:
        entries = sorted(os.scandir(container), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"cannot list {container}: {exc.strerror or exc}") from exc
    for entry in entries:
        if entry.name.startswith((".", "_")) or entry.name in JUNK_DIRS:
            continue
        try:
            if entry.is_dir():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def pattern_dirs(path: Path) -> tuple[list[Path], list[Path]]:
    """The patterns of a pattern folder, a folder of patterns, or a repository root holding
    `patterns/`; and the tooling folders beside them (no metadata, README or IaC: `scripts/`,
    `terraform-fixtures/` in the public catalogue), which are skipped."""
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if not path.is_dir():
        raise UsageError(f"not a folder: {path} (give a pattern folder or a folder of patterns)")
    nested = path / "patterns"
    if path.name != "patterns" and nested.is_dir():
        children = _children(nested)  # a repository root: this catalog keeps its patterns there
    elif path.name != "patterns" and is_pattern_dir(path):
        return [path], []
    else:
        children = _children(path)
        if not children and path.name != "patterns":
            return [path], []  # an empty (or file-only) folder given as a pattern
    if path.name == "patterns" or nested.is_dir():
        return children, []  # this catalog's patterns/ holds patterns only
    patterns = [c for c in children if looks_like_pattern(c)]
    return patterns, [c for c in children if c not in patterns]


def flavour(root: Path) -> str:
    """`catalog` for this catalog's patterns (its schema and conventions), else `public`."""
    return "catalog" if root.parent.name == "patterns" else "public"


def changed_files(ref: str, cwd: Path) -> tuple[Path, set[Path]]:
    """Absolute paths touched since `ref` (merge base with HEAD), committed or not, and the top."""
    top = git_toplevel(cwd)
    if top is None:
        raise UsageError("--changed-since needs a git work tree")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(top), *args], capture_output=True, text=True, check=False, timeout=120
        )

    check = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if check.returncode != 0:
        raise UsageError(f"--changed-since: unknown git ref {ref!r}")
    base = git("merge-base", ref, "HEAD")
    since = base.stdout.strip() if base.returncode == 0 and base.stdout.strip() else ref
    diff = git("diff", "--name-only", "-z", since)
    untracked = git("ls-files", "-z", "--others", "--exclude-standard")
    names = [n for n in (diff.stdout + untracked.stdout).split("\0") if n]
    return top, {(top / n).resolve() for n in names}


def select_changed(dirs: list[Path], touched: set[Path]) -> list[Path]:
    resolved = {d: d.resolve() for d in dirs}
    return [d for d in dirs if any(t.is_relative_to(resolved[d]) for t in touched)]


@dataclass
class Frameworks:
    terraform: list[str] = field(default_factory=list)  # folders holding *.tf
    templates: list[str] = field(default_factory=list)  # SAM / CloudFormation templates
    sam: bool = False
    cdk: list[tuple[str, str]] = field(default_factory=list)  # (folder, language)
    pulumi: list[tuple[str, str]] = field(default_factory=list)  # (folder, runtime)
    serverless: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        out = []
        if self.templates:
            out.append("sam" if self.sam else "cloudformation")
        if self.cdk:
            out.extend(sorted({f"cdk-{lang}" for _, lang in self.cdk}))
        if self.terraform:
            out.append("terraform")
        if self.pulumi:
            out.extend(sorted({f"pulumi-{rt}" for _, rt in self.pulumi}))
        if self.serverless:
            out.append("serverless")
        return out


def _parent(rel: str) -> str:
    parent = str(PurePosixPath(rel).parent)
    return "" if parent == "." else parent


def detect(ctx: PatternContext) -> Frameworks:
    cached = ctx.cache.get("frameworks")
    if isinstance(cached, Frameworks):
        return cached
    fw = Frameworks()
    fw.terraform = sorted({_parent(f) for f in ctx.code_files(".tf")})
    for rel in ctx.code_files(".yaml", ".yml", ".json", ".template"):
        name = PurePosixPath(rel).name
        if (
            name in _NOT_TEMPLATES
            or name.startswith("Pulumi.")
            or ".asl." in name
            or name == METADATA_FILE
            or name == f"{ctx.name}.json"
            or rel.startswith((".github/", "events/"))
        ):
            continue
        text = ctx.read_text(rel)
        if text is None or "AWS::" not in text or not _CFN.search(text):
            continue
        fw.templates.append(rel)
        if "AWS::Serverless" in text:
            fw.sam = True
    for rel in ctx.named("cdk.json"):
        if ctx.visible(rel):
            fw.cdk.append((_parent(rel), _cdk_language(ctx, rel)))
    if not fw.cdk and not fw.templates and not fw.terraform:
        fw.cdk += _cdk_without_cdk_json(ctx)
    for rel in ctx.named("Pulumi.yaml", "Pulumi.yml"):
        text = ctx.read_text(rel) or ""
        match = _PULUMI_RUNTIME.search(text)
        fw.pulumi.append((_parent(rel), match.group(1).lower() if match else "unknown"))
    fw.serverless = ctx.named("serverless.yml", "serverless.yaml", "serverless.ts", "serverless.js")
    ctx.cache["frameworks"] = fw
    return fw


_CDK_IMPORT = re.compile(
    r"""from\s+['"]aws-cdk-lib|require\(['"]aws-cdk-lib|^\s*(?:from|import)\s+aws_cdk\b""", re.M
)
_CDK_LANGUAGES = {
    ".ts": "typescript",
    ".js": "javascript",
    ".py": "python",
    ".java": "java",
    ".cs": "csharp",
    ".go": "go",
}


def _cdk_without_cdk_json(ctx: PatternContext) -> list[tuple[str, str]]:
    """An app whose cdk.json is not committed: files that import the CDK, at the pattern root."""
    for rel in ctx.code_files(*_CDK_LANGUAGES):
        suffix = PurePosixPath(rel).suffix
        if suffix in (".java", ".cs", ".go"):
            text = ctx.read_text(rel) or ""
            if "awscdk" in text.lower() or "Amazon.CDK" in text or "software.amazon.awscdk" in text:
                return [("", _CDK_LANGUAGES[suffix])]
            continue
        text = ctx.read_text(rel) or ""
        if _CDK_IMPORT.search(text):
            return [("", _CDK_LANGUAGES[suffix])]
    return []


def _cdk_language(ctx: PatternContext, rel: str) -> str:
    text = ctx.read_text(rel) or ""
    try:
        app = str(json.loads(text).get("app", ""))
    except (ValueError, AttributeError):
        app = text
    if "python" in app or app.endswith(".py"):
        return "python"
    if "ts-node" in app or ".ts" in app or "tsx" in app:
        return "typescript"
    if "mvn" in app or "gradle" in app or "java" in app:
        return "java"
    if "dotnet" in app:
        return "csharp"
    if "go " in app or "go run" in app:
        return "go"
    if "node" in app or ".js" in app:
        return "javascript"
    return "unknown"


def listings(root: Path, dirs: list[Path]) -> tuple[dict[Path, Listing], bool]:
    """File listings of every pattern below `root`: `git ls-files` in a work tree, else a walk."""
    tracked = git_files(root) if git_toplevel(root) is not None else None
    if tracked is None:
        return {d: walk(d) for d in dirs}, False
    result: dict[Path, Listing] = {}
    by_dir: dict[Path, list[str]] = {d: [] for d in dirs}
    base = root.resolve()
    prefixes = {d.resolve().relative_to(base).as_posix(): d for d in dirs}
    for rel in tracked:
        if "." in prefixes:
            by_dir[prefixes["."]].append(rel)
            continue
        cut = rel.find("/")
        while cut > 0:
            owner = prefixes.get(rel[:cut])
            if owner is not None:
                by_dir[owner].append(rel[cut + 1 :])
                break
            cut = rel.find("/", cut + 1)
    for d, rels in by_dir.items():
        listing = Listing()
        present = [r for r in rels if os.path.lexists(d / r)]
        split_junk(present, listing)
        result[d] = listing
    return result, True
