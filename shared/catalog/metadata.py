"""Metadata and README checks, shared by `catalog validate`, the shared suite and `catalog review`."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).with_name("schema")
PUBLIC_SCHEMA = "public-pattern.schema.json"
CATALOG_SCHEMA = "catalog-pattern.schema.json"
README_SECTIONS = ("Requirements", "Deployment Instructions", "How it works", "Testing", "Cleanup")
# Programs a README command may start with; anything else must be a file in the repository.
KNOWN_PROGRAMS = frozenset(
    {
        "catalog",
        "terraform",
        "pulumi",
        "cd",
        "curl",
        "aws",
        "export",
        "git",
        "python",
        "python3",
        "pip",
        "jq",
        "cat",
        "echo",
        "unset",
        "source",
        "bash",
        "sh",
    }
)


@dataclass(frozen=True)
class Problem:
    code: str  # stable id, e.g. "metadata.schema"; the review rules map these
    file: Path
    line: int | None
    message: str


@cache
def _validator(name: str) -> Draft202012Validator:
    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.schema.json")}
    registry: Registry = Registry().with_resources(
        (key, Resource.from_contents(value)) for key, value in schemas.items()
    )
    return Draft202012Validator(schemas[name], registry=registry)


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf'"{re.escape(key)}"\s*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def schema_problems(
    data: Any, text: str, path: Path, schema: str, code: str = "metadata.schema"
) -> list[Problem]:
    problems = []
    for error in sorted(_validator(schema).iter_errors(data), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(root)"
        key = next((str(p) for p in reversed(error.path) if isinstance(p, str)), None)
        problems.append(
            Problem(
                code,
                path,
                _line_of(text, key) if key else 1,
                f"{where}: {error.message} ({schema})",
            )
        )
    return problems


def validate_metadata(
    path: Path, *, schema: str = CATALOG_SCHEMA, pattern_folder: bool | None = None
) -> list[Problem]:
    """Schema, cross-field and on-disk checks of one metadata file.

    `pattern_folder`: the file's folder is a pattern (its name must equal projectFolder, its
    templateFile must exist). None decides by location: a folder in patterns/ is a pattern, the
    model at the top of the repository is not. A checkout of the public catalogue passes True.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return [Problem("metadata.missing", path, None, "metadata file is missing")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem("metadata.unreadable", path, None, f"cannot read metadata: {exc}")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Problem("metadata.invalid-json", path, exc.lineno, f"invalid JSON: {exc.msg}")]
    problems = schema_problems(data, text, path, schema)
    if not isinstance(data, dict):
        return problems
    github = data.get("gitHub")
    template = github.get("template", {}) if isinstance(github, dict) else {}
    template = template if isinstance(template, dict) else {}
    folder, template_file = template.get("projectFolder"), template.get("templateFile")
    # A folder prefix, not a file named after the folder (lib/<folder>-stack.ts is fine).
    if (
        isinstance(folder, str)
        and folder
        and isinstance(template_file, str)
        and folder in PurePosixPath(template_file).parts[:-1]
    ):
        problems.append(
            Problem(
                "metadata.template-path",
                path,
                _line_of(text, "templateFile"),
                f"templateFile {template_file!r} must not contain projectFolder {folder!r}",
            )
        )
    pattern_dir = path.parent
    if pattern_folder is None:
        pattern_folder = pattern_dir.parent.name == "patterns"
    if not pattern_folder:
        return problems
    if isinstance(folder, str) and folder and folder != pattern_dir.name:
        kind = (
            "differs only in case from"
            if folder.lower() == pattern_dir.name.lower()
            else "differs from"
        )
        problems.append(
            Problem(
                "metadata.folder-mismatch",
                path,
                _line_of(text, "projectFolder"),
                f"projectFolder {folder!r} {kind} the folder name {pattern_dir.name!r}",
            )
        )
    variants = data.get("variants") if isinstance(data.get("variants"), dict) else {}
    files = [(template_file, _line_of(text, "templateFile"))] + [
        (v.get("templateFile"), _line_of_value(text, v.get("templateFile")))
        for v in variants.values()
        if isinstance(v, dict)
    ]
    for name, line in files:
        if not isinstance(name, str) or not name.strip():
            continue
        relative = name.strip()
        if isinstance(folder, str) and folder and relative.startswith(f"{folder}/"):
            relative = relative[len(folder) + 1 :]  # metadata.template-path reports the prefix
        if not (pattern_dir / relative).is_file():
            problems.append(
                Problem(
                    "metadata.template-missing",
                    path,
                    line,
                    f"templateFile {relative!r} does not exist in {pattern_dir.name}/",
                )
            )
    return problems


def _line_of_value(text: str, value: object) -> int | None:
    if not isinstance(value, str):
        return None
    match = re.search(rf'"templateFile"\s*:\s*"{re.escape(value)}"', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    line: int  # 1-based line of the heading
    body: str  # the Markdown up to the next heading of the same or a higher level


@cache
def _block_parser() -> Any:
    """CommonMark block structure only: headings need no inline parse (the slow part)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(["inline", "text_join"])


@lru_cache(maxsize=256)
def readme_outline(text: str) -> tuple[Section, ...]:
    """Headings as a Markdown parser sees them (a `## x` inside fenced code is no heading)."""
    tokens = _block_parser().parse(text)
    lines = text.splitlines(keepends=True)
    heads = [
        (int(tok.tag[1]), tokens[i + 1].content.strip(), *(tok.map or (0, 1)))
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open"
    ]
    out = []
    for index, (level, title, start, after) in enumerate(heads):
        end = next((s for lv, _, s, _ in heads[index + 1 :] if lv <= level), len(lines))
        out.append(Section(level, title, start + 1, "".join(lines[after:end])))
    return tuple(out)


def readme_sections(text: str) -> list[str]:
    return [s.title for s in readme_outline(text) if s.level in (2, 3)]


def check_readme(path: Path, repo_root: Path | None = None) -> list[Problem]:
    """The five standard sections, both engines, a Mermaid diagram, and commands that exist."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return [Problem("docs.readme-missing", path, None, "README.md is missing")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem("docs.readme-unreadable", path, None, f"cannot read README: {exc}")]
    problems = []
    found = {s.lower() for s in readme_sections(text)}
    for section in README_SECTIONS:
        if section.lower() not in found:
            problems.append(
                Problem("docs.missing-section", path, None, f"README has no '## {section}' section")
            )
    deploy = _section_text(text, "Deployment Instructions")
    for engine in ("Pulumi", "Terraform"):
        if deploy is not None and engine not in deploy:
            problems.append(
                Problem(
                    "docs.missing-engine",
                    path,
                    _line_of_text(text, "Deployment Instructions"),
                    f"Deployment Instructions do not cover {engine}",
                )
            )
    how = _section_text(text, "How it works")
    if how is not None and "```mermaid" not in how:
        problems.append(
            Problem(
                "docs.missing-diagram",
                path,
                _line_of_text(text, "How it works"),
                "How it works has no Mermaid diagram",
            )
        )
    problems += command_problems(path, text, repo_root)
    return problems


def _line_of_text(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _section_text(text: str, title: str) -> str | None:
    return next(
        (s.body for s in readme_outline(text) if s.level == 2 and s.title.lower() == title.lower()),
        None,
    )


def shell_commands(text: str) -> list[tuple[int, str]]:
    """(line, command) for every command line in bash/sh/shell fenced blocks."""
    commands, fence, lang = [], False, ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence, lang = (not fence), stripped[3:].strip().lower()
            continue
        if (
            fence
            and lang in ("bash", "sh", "shell", "console")
            and stripped
            and not stripped.startswith("#")
        ):
            commands.append((number, stripped.removeprefix("$ ")))
    return commands


def command_problems(path: Path, text: str, repo_root: Path | None) -> list[Problem]:
    from .commands import SUBCOMMANDS

    problems = []
    bases = [path.parent] + ([repo_root] if repo_root else [])
    cwd = path.parent
    for line, command in shell_commands(text):
        try:
            words = shlex.split(command, comments=True)
        except ValueError:
            continue
        for part in _split_commands(words):
            program = part[0]
            if program.endswith("/catalog") or program == "catalog":
                if len(part) > 1 and part[1] not in SUBCOMMANDS:
                    problems.append(
                        Problem(
                            "docs.bad-command",
                            path,
                            line,
                            f"`{command}`: catalog has no subcommand {part[1]!r}",
                        )
                    )
                if program != "catalog" and not any((b / program).is_file() for b in bases):
                    problems.append(
                        Problem(
                            "docs.bad-command", path, line, f"`{command}`: {program} does not exist"
                        )
                    )
            elif program == "cd" and len(part) > 1 and not part[1].startswith(("$", "~", "-")):
                target = next((b / part[1] for b in [cwd, *bases] if (b / part[1]).is_dir()), None)
                if target is None:
                    problems.append(
                        Problem("docs.bad-command", path, line, f"`{command}`: no folder {part[1]}")
                    )
                else:
                    cwd = target.resolve()
            elif (
                program not in KNOWN_PROGRAMS
                and "=" not in program
                and not any((b / program).is_file() for b in [cwd, *bases])
            ):
                problems.append(
                    Problem(
                        "docs.bad-command",
                        path,
                        line,
                        f"`{command}`: {program} is neither a known tool nor a file here",
                    )
                )
    return problems


def _split_commands(words: list[str]) -> list[list[str]]:
    parts, current = [], []
    for word in words:
        if word in ("&&", "||", ";", "|"):
            if current:
                parts.append(current)
            current = []
        else:
            current.append(word)
    if current:
        parts.append(current)
    return parts
