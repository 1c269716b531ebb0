"""2. README: the five sections, both engines, a Mermaid diagram, commands that exist; root index."""

from __future__ import annotations

from pathlib import Path

from catalog.index import render_index, root_readme_index
from catalog.metadata import check_readme, command_problems
from catalog.patterns import REPO_ROOT, Pattern


def test_pattern_readme(pattern: Pattern) -> None:
    problems = check_readme(pattern.root / "README.md", REPO_ROOT)
    assert not problems, "\n".join(f"{p.line}: {p.message}" for p in problems)


def test_readme_check_catches_missing_sections_and_bad_commands(
    pattern: Pattern, tmp_path: Path
) -> None:
    copy = tmp_path / "README.md"
    text = (pattern.root / "README.md").read_text()
    text = (
        text.replace("## Cleanup", "## Tidy up")
        + "\n```bash\ncd no-such-folder\ncatalog frobnicate x\n```\n"
    )
    copy.write_text(text)
    codes = [p.code for p in check_readme(copy, REPO_ROOT)]
    assert "docs.missing-section" in codes
    assert codes.count("docs.bad-command") >= 2


def test_root_readme_index_is_current() -> None:
    assert root_readme_index() == render_index(), (
        "run `catalog index` to regenerate the README index"
    )


def test_root_readme_commands_exist() -> None:
    readme = REPO_ROOT / "README.md"
    assert command_problems(readme, readme.read_text(), REPO_ROOT) == []
