"""An independent counter of review findings on a checkout of the public pattern catalogue.

It shares no code with `catalog.review` (only the standard library and markdown-it-py), so
where it and the review count the same thing, agreement is evidence that neither miscounts.
Rules counted: META001, META002, DOC001, DOC002, HYG001, HYG002, HYG003, HYG004, NAME002, RT003.

    python tests/review/independent_count.py CHECKOUT [REVIEW_JSON]

With REVIEW_JSON (the output of `catalog review CHECKOUT --format json`), prints both counts
and the difference per rule; exits 1 when one differs by more than 2%.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from markdown_it import MarkdownIt

SECTIONS = ("requirements", "deployment instructions", "how it works", "testing", "cleanup")
META_ALTERNATIVES = re.compile(r"^(pattern|pattern-.+|.+-pattern)\.json$")
EDITOR_FOLDERS = {".vscode", ".idea", ".settings"}
BUILD_FOLDERS = {
    "node_modules", ".terraform", "cdk.out", ".aws-sam", "__pycache__", ".venv", "venv",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".serverless", ".gradle", ".pulumi", "dist",
}  # fmt: skip
EDITOR_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".project", ".classpath", ".factorypath"}
EDITOR_ENDINGS = (".swp", ".swo", ".iml", ".code-workspace", "~")
STATE_ENDINGS = (".tfstate", ".tfstate.backup", ".tfplan")
ARCHIVE_ENDINGS = (".zip", ".jar", ".war", ".whl", ".tar.gz", ".tgz", ".egg")
IAC_HINTS = ("template.yaml", "template.yml", "template.json", "cdk.json", "serverless.yml")
RUNTIME_VALUE = re.compile(
    r"\b[Rr]untime[\"']?\s*[:=]\s*[\"']?((?:python|nodejs|java|dotnet|ruby|go|provided)[\w.-]*)"
)
KNOWN_RUNTIMES = {
    *(f"python3.{n}" for n in range(0, 20)), "python2.7",
    *(f"nodejs{n}.x" for n in range(4, 40)), "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10",
    "java8", "java8.al2", "java11", "java17", "java21", "java25",
    "dotnet6", "dotnet8", "dotnet10", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
    "dotnetcore3.1", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "ruby3.4", "go1.x",
    "provided", "provided.al2", "provided.al2023",
}  # fmt: skip


def metadata_of(folder: Path) -> Path | None:
    for name in ("example-pattern.json", f"{folder.name}.json"):
        if (folder / name).is_file():
            return folder / name
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and META_ALTERNATIVES.match(entry.name):
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                return entry
            if isinstance(data, dict) and ("title" in data or "gitHub" in data):
                return entry
    return None


def is_pattern(folder: Path) -> bool:
    names = {e.name for e in folder.iterdir()}
    if metadata_of(folder) or any(n.lower() == "readme.md" for n in names) or not names:
        return True
    if any(n.endswith(".tf") for n in names) or set(IAC_HINTS) & names:
        return True
    if {"terraform", "pulumi", "cdk", "sam", "Pulumi.yaml"} & names:
        return True
    return any("example-pattern.json" in files for _, _, files in os.walk(folder))


def files_of(folder: Path) -> tuple[list[str], set[str]]:
    """Every file (relative), and the build/editor folders (not descended into)."""
    found, junk = [], set()
    for top, dirs, names in os.walk(folder):
        rel_top = os.path.relpath(top, folder)
        for d in list(dirs):
            if d in BUILD_FOLDERS or d in EDITOR_FOLDERS:
                junk.add(d)
                dirs.remove(d)
        found += [n if rel_top == "." else f"{rel_top}/{n}" for n in names]
    return found, junk


def readme_sections(text: str) -> set[str]:
    parser = MarkdownIt("commonmark").disable(["inline", "text_join"])
    tokens = parser.parse(text)
    return {
        tokens[i + 1].content.strip().lower().rstrip(" :.")
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag in ("h2", "h3")
    }


def count(checkout: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for folder in sorted(p for p in checkout.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")) or folder.name in BUILD_FOLDERS:
            continue
        if not is_pattern(folder):
            continue
        meta = metadata_of(folder)
        if meta is None:
            counts["META001"] += 1
        else:
            try:
                json.loads(meta.read_text(encoding="utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                counts["META002"] += 1
        readme = next(
            (e for e in sorted(folder.iterdir()) if e.name.lower() == "readme.md" and e.is_file()),
            None,
        )
        if readme is None:
            counts["DOC001"] += 1
        else:
            try:
                found = readme_sections(readme.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError:
                found = None
            if found is not None:
                counts["DOC002"] += sum(
                    1 for s in SECTIONS if not any(h == s or h.startswith(f"{s} ") for h in found)
                )
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", folder.name):
            counts["NAME002"] += 1
        files, junk = files_of(folder)
        counts["HYG001"] += len(junk & EDITOR_FOLDERS)
        counts["HYG002"] += len(junk & BUILD_FOLDERS)
        compiled = False
        for rel in files:
            name = rel.rsplit("/", 1)[-1]
            lower = name.lower()
            if name in EDITOR_NAMES or lower.endswith(EDITOR_ENDINGS):
                counts["HYG001"] += 1
            elif lower.endswith(STATE_ENDINGS) or name == ".terraform.tfstate.lock.info":
                counts["HYG003"] += 1
            elif lower.endswith((".pyc", ".pyo", ".class")):
                compiled = True
            elif lower.endswith(ARCHIVE_ENDINGS) and name not in (
                "maven-wrapper.jar",
                "gradle-wrapper.jar",
            ):
                counts["HYG004"] += 1
        counts["HYG002"] += compiled
        counts["RT003"] += runtime_typos(folder, files)
    return counts


def runtime_typos(folder: Path, files: list[str]) -> int:
    """Runtime values in SAM/CloudFormation templates and Terraform files that Lambda lacks."""
    bad = 0
    for rel in files:
        if not rel.endswith((".yaml", ".yml", ".tf", ".json")) or "/." in f"/{rel}":
            continue
        try:
            text = (folder / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not rel.endswith(".tf") and "AWS::" not in text:
            continue
        for line in text.splitlines():
            if line.lstrip().startswith(("#", "//")):
                continue
            bad += sum(1 for m in RUNTIME_VALUE.finditer(line) if m.group(1) not in KNOWN_RUNTIMES)
    return bad


def main(argv: list[str]) -> int:
    counts = count(Path(argv[0]))
    if len(argv) < 2:
        print(json.dumps(dict(sorted(counts.items())), indent=2))
        return 0
    review = json.loads(Path(argv[1]).read_text())["summary"]["by_rule"]
    worst = 0.0
    print(f"{'rule':8} {'counter':>8} {'review':>8} {'diff':>7}")
    for rule in sorted(counts | {r: 0 for r in ("META001", "RT003")}):
        mine, theirs = counts.get(rule, 0), review.get(rule, 0)
        diff = abs(mine - theirs) / max(mine, theirs, 1)
        worst = max(worst, diff)
        print(f"{rule:8} {mine:8} {theirs:8} {diff:7.1%}")
    return 1 if worst > 0.02 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
