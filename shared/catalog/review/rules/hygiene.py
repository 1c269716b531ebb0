"""repo-hygiene: editor, OS, dependency and build junk committed with a pattern.

Inside a git work tree only files git would commit are seen (`git ls-files --cached --others
--exclude-standard`), so ignored files are never reported; elsewhere the folder is walked.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..context import PatternContext
from ..model import rule
from . import check

rule(
    "HYG001",
    "repo-hygiene",
    "error",
    "editor or OS files committed",
    ".vscode/ (settings.json) is committed; .DS_Store in src/",
)
rule(
    "HYG002",
    "repo-hygiene",
    "error",
    "dependency or build folder committed",
    "node_modules/, __pycache__/, .terraform/, cdk.out/ or .aws-sam/ is committed",
)
rule(
    "HYG003",
    "repo-hygiene",
    "error",
    "infrastructure state file committed",
    "terraform.tfstate (may hold secrets and account ids)",
)
rule(
    "HYG004",
    "repo-hygiene",
    "warning",
    "build artifact committed (zip, jar, ...)",
    "lambda.zip is committed; build it from src/ at deploy time",
)

EDITOR_DIRS = {".vscode", ".idea", ".settings"}
EDITOR_FILES = {".DS_Store", "Thumbs.db", "desktop.ini", ".project", ".classpath", ".factorypath"}
EDITOR_SUFFIXES = (".swp", ".swo", ".iml", ".code-workspace", "~")
STATE_SUFFIXES = (".tfstate", ".tfstate.backup", ".tfplan")
ARCHIVE_SUFFIXES = (".zip", ".jar", ".war", ".whl", ".tar.gz", ".tgz", ".egg")
COMPILED_SUFFIXES = (".pyc", ".pyo", ".class")
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".java", ".kt", ".go", ".cs", ".rb", ".rs")
# The Maven and Gradle wrappers' bootstrap jars are committed by design (mvnw, gradlew run them).
BUILD_WRAPPERS = frozenset({"maven-wrapper.jar", "gradle-wrapper.jar"})
_HINT_IGNORE = "delete it from the pattern and add it to .gitignore"


@check("hygiene", "HYG001", "HYG002", "HYG003", "HYG004")
def check_hygiene(ctx: PatternContext) -> None:
    by_name: dict[str, list[str]] = {}
    for rel in ctx.junk_dirs:
        by_name.setdefault(PurePosixPath(rel).name, []).append(rel)
    for name, rels in by_name.items():
        rule_id = "HYG001" if name in EDITOR_DIRS else "HYG002"
        what = "editor settings" if rule_id == "HYG001" else "dependency/build output"
        more = f" (and {len(rels) - 1} more {name}/ folders)" if len(rels) > 1 else ""
        ctx.report(
            rule_id,
            rels[0],
            None,
            f"{rels[0]}/ ({what}) is committed{more}",
            f"{_HINT_IGNORE}: {name}/",
        )
    has_source = any(f.endswith(SOURCE_SUFFIXES) for f in ctx.files)
    compiled_dirs: set[str] = set()
    for rel in ctx.files:
        name = PurePosixPath(rel).name
        lower = name.lower()
        if name in EDITOR_FILES or lower.endswith(EDITOR_SUFFIXES):
            ctx.report("HYG001", rel, None, f"{rel} (editor/OS file) is committed", _HINT_IGNORE)
        elif lower.endswith(STATE_SUFFIXES) or name == ".terraform.tfstate.lock.info":
            ctx.report(
                "HYG003",
                rel,
                None,
                f"{rel} is infrastructure state: it can hold secrets and account ids",
                "delete it, keep state in a backend, and ignore *.tfstate*",
            )
        elif lower.endswith(COMPILED_SUFFIXES):
            compiled_dirs.add(str(PurePosixPath(rel).parent))
        elif lower.endswith(ARCHIVE_SUFFIXES) and name not in BUILD_WRAPPERS:
            source = "" if has_source else " without its source"
            ctx.report(
                "HYG004",
                rel,
                None,
                f"{rel} is a build artifact committed{source}",
                "commit the source and build the archive at deploy time (or document why)",
            )
    if compiled_dirs:
        folders = sorted(compiled_dirs)
        first = folders[0]
        more = f" (and {len(folders) - 1} more folders)" if len(folders) > 1 else ""
        where = "the pattern root" if first == "." else f"{first}/"
        ctx.report(
            "HYG002",
            first,
            None,
            f"compiled files (*.pyc/*.class) committed in {where}{more}",
            _HINT_IGNORE,
        )
