"""The pattern index in the root README, generated from each pattern's metadata."""

from __future__ import annotations

import re

from .patterns import REPO_ROOT, discover

START, END = "<!-- pattern-index:start -->", "<!-- pattern-index:end -->"
README = REPO_ROOT / "README.md"


def render_index() -> str:
    lines = ["| Pattern | What it shows | Services | Engines |", "| --- | --- | --- | --- |"]
    for pattern in discover():
        description = str(pattern.metadata.get("description", "")).replace("|", "\\|")
        engines = ", ".join(
            v.get("framework", k) for k, v in sorted(pattern.metadata.get("variants", {}).items())
        )
        lines.append(
            f"| [{pattern.title}](patterns/{pattern.name}/) | {description} | "
            f"{', '.join(pattern.services)} | {engines} |"
        )
    return "\n".join(lines)


def root_readme_index() -> str | None:
    match = re.search(
        re.escape(START) + r"\n(.*?)\n" + re.escape(END), README.read_text(), re.DOTALL
    )
    return match.group(1) if match else None


def write_index() -> bool:
    """Rewrite the index between the markers; True when the README changed."""
    text = README.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{README} has no {START} ... {END} markers")
    updated = re.sub(
        re.escape(START) + r".*?" + re.escape(END),
        lambda _: f"{START}\n{render_index()}\n{END}",
        text,
        flags=re.DOTALL,
    )
    if updated != text:
        README.write_text(updated)
    return updated != text
