"""Which patterns a change must deploy-cycle: CI cycles only those, so its cost follows the change.

A file inside `patterns/<name>/` concerns that pattern alone (a pattern needs no change outside its
folder). Anything else the cycle can depend on (shared tooling, modules, components, the suite, the
locks, the workflows) concerns every pattern. Only files that no cycle reads are left out.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

# Top-level files that no deploy cycle reads: changing them alone cycles nothing.
NO_CYCLE_FILES = frozenset(
    {"README.md", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE", ".pre-commit-config.yaml"}
)


class ChangeError(Exception):
    """The base ref cannot be compared (unknown ref, not a git checkout); the message says which."""


def changed_files(base: str, root: Path) -> list[str]:
    """Files changed between the merge base of BASE and HEAD, and HEAD (as a pull request shows)."""
    try:
        done = subprocess.run(
            ["git", "diff", "--name-only", "--no-renames", f"{base}...HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ChangeError("git is not on PATH") from exc
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["git diff failed"])[0]
        raise ChangeError(f"cannot compare with {base!r}: {detail}")
    return [line for line in done.stdout.splitlines() if line]


def patterns_to_cycle(files: Iterable[str], patterns: Iterable[str]) -> tuple[list[str], str]:
    """The patterns to cycle for these changed files, and why."""
    known = sorted(patterns)
    touched: set[str] = set()
    for name in files:
        parts = PurePosixPath(name).parts
        if len(parts) >= 3 and parts[0] == "patterns":
            if parts[1] in known:  # a removed pattern has nothing left to cycle
                touched.add(parts[1])
        elif name not in NO_CYCLE_FILES:
            return known, f"shared file changed ({name})"
    if not touched:
        return [], "no pattern or shared file changed"
    return sorted(touched), "pattern folders changed"
