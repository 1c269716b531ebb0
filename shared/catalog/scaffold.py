"""`catalog new NAME --from MODEL`: a new pattern folder, copied from a model with its names replaced.

The model is `model` (shared/catalog/model_pattern/: one function, one table, both engines, one
scenario; kept in the tooling so the shared suite does not run it as a pattern of its own) or any
pattern of the catalog. The copy gets the new folder name everywhere the model's name was, a code
package of its own (`<name>` with `_`), and helper modules renamed so two patterns' tests never
import each other's. The text the author must write is left as `<< ... >>` placeholders, which
`catalog review` reports (DOC003) until they are filled.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .commands import BadInput
from .packaging import PackagingError, find_package
from .patterns import METADATA_FILE, PATTERNS_DIR, PatternError, load

MODEL = "model"
MODEL_DIR = Path(__file__).with_name("model_pattern")
MODEL_NAME = "model-pattern"
# 32: the pattern name is the default resource name prefix, which both engines cap at 32.
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_MAX_NAME = 32
_TEXT_SUFFIXES = {".py", ".tf", ".json", ".md", ".txt", ".yaml", ".yml", ".toml", ".cfg"}
_IGNORE = shutil.ignore_patterns(
    "build", "__pycache__", "*.pyc", ".terraform", "*.tfstate*", ".terraform.lock.hcl", "venv"
)


class ScaffoldError(BadInput):
    """The pattern cannot be created; the message says why. Nothing was created (exit 3)."""


@dataclass
class Placeholder:
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


@dataclass
class ScaffoldResult:
    root: Path
    package: str
    placeholders: list[Placeholder] = field(default_factory=list)


def scaffold(name: str, model: str = MODEL, patterns_dir: Path = PATTERNS_DIR) -> ScaffoldResult:
    if not _NAME.fullmatch(name) or len(name) > _MAX_NAME:
        raise ScaffoldError(
            f"invalid pattern name {name!r}: 1-{_MAX_NAME} lowercase letters, digits and single "
            "hyphens, starting with a letter (it becomes the folder and the resource prefix)"
        )
    target = patterns_dir / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    source, old_name = _model(model)
    try:
        old_package = find_package(source / "src").name
    except PackagingError as exc:
        raise ScaffoldError(str(exc)) from exc
    package = name.replace("-", "_")
    if package in sys.stdlib_module_names or importlib.util.find_spec(package) is not None:
        raise ScaffoldError(f"code package {package!r} would shadow an installed module: rename")
    taken = _packages(patterns_dir)
    if package in taken:
        raise ScaffoldError(f"code package {package!r} is already used by {taken[package]}")
    staging = Path(tempfile.mkdtemp(prefix=f".catalog-new-{name}-", dir=patterns_dir.parent))
    try:
        copy = staging / name
        shutil.copytree(source, copy, ignore=_IGNORE, symlinks=True)
        _relink(source, copy, target)
        _rename(copy, old_name, name, old_package, package, from_model=model == MODEL)
        patterns_dir.mkdir(exist_ok=True)
        copy.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ScaffoldResult(target, package, placeholders(target))


def _relink(source: Path, copy: Path, target: Path) -> None:
    """The model's links to shared files (terraform/pattern-root/) point there again from the new
    pattern's place, relatively, when the new pattern is in the same repository as that file;
    elsewhere (or for a link to anything else) the new pattern gets a copy of the file."""
    repository = target.parent.parent.resolve()
    for link in sorted(p for p in copy.rglob("*") if p.is_symlink()):
        relative = link.relative_to(copy)
        shared = (source / relative).resolve()
        link.unlink()
        if shared.is_file() and shared.is_relative_to(repository / "terraform"):
            link.symlink_to(os.path.relpath(shared, (target / relative).parent))
        else:
            shutil.copy2(shared, link)


def _model(model: str) -> tuple[Path, str]:
    if model == MODEL:
        return MODEL_DIR, MODEL_NAME
    try:
        pattern = load(model)
    except PatternError as exc:
        raise ScaffoldError(f"unknown model {model!r}: give `model` or a pattern ({exc})") from exc
    return pattern.root, pattern.name


def _packages(patterns_dir: Path) -> dict[str, str]:
    found = {}
    for folder in sorted(patterns_dir.iterdir()) if patterns_dir.is_dir() else []:
        src = folder / "src"
        for package in sorted(src.iterdir()) if src.is_dir() else []:
            if (package / "__init__.py").is_file():
                found[package.name] = folder.name
    return found


def _rename(
    root: Path, old_name: str, name: str, old_package: str, package: str, *, from_model: bool
) -> None:
    """Replace the model's names in every text file and path; a copied pattern's prose is marked."""
    helpers = {
        p.stem: f"{package}_{p.stem}"
        for p in (root / "tests").glob("*.py")
        if not p.stem.startswith(("test_", "conftest", old_package))
    }
    substitutions = [
        (re.compile(rf"(?<![\w-]){re.escape(old_name)}(?!\w)"), name),
        (re.compile(rf"(?<!\w){re.escape(old_package)}"), package),
        *((re.compile(rf"\b{re.escape(old)}\b"), new) for old, new in helpers.items()),
    ]
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.suffix not in _TEXT_SUFFIXES:
            continue
        text = path.read_text()
        for regex, new in substitutions:
            text = regex.sub(new, text)
        path.write_text(text)
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        new_name = path.name.replace(old_package, package)
        for old, new in helpers.items():
            if path.stem == old:
                new_name = f"{new}{path.suffix}"
        if new_name != path.name:
            path.rename(path.with_name(new_name))
    if not from_model:
        _mark_copied_prose(root, name)


def _mark_copied_prose(root: Path, name: str) -> None:
    """A pattern copied as a model: its title, description and README describe the original."""
    import json

    metadata_path = root / METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["title"] = "<< Title: what the pattern does, with which services >>"
    metadata["description"] = "<< One sentence on what the pattern does >>"
    metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    readme = root / "README.md"
    lines = readme.read_text().splitlines()
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), 0)
    lines[title : title + 1] = [
        "# << Title: what the pattern does, with which services >>",
        "",
        f"<< Rewrite this README for {name}: below is the model's text >>",
    ]
    readme.write_text("\n".join(lines) + "\n")


def placeholders(root: Path) -> list[Placeholder]:
    """The placeholders left in the README and the metadata, as the review's DOC003 finds them."""
    from .review.rules.docs import PLACEHOLDERS, prose

    found = []
    for rel in ("README.md", METADATA_FILE):
        path = root / rel
        if not path.is_file():
            continue
        text = path.read_text()
        lines = prose(text) if rel.endswith(".md") else text.splitlines()
        for number, line in enumerate(lines, start=1):
            matches = [m.group(0) for _label, regex in PLACEHOLDERS if (m := regex.search(line))]
            if matches:
                found.append(Placeholder(rel, number, matches[0]))
    return found


def run_new(name: str, model: str) -> int:
    """The CLI command: the placeholders on success. Bad input raises ScaffoldError, and the CLI
    prints one line and exits 3 (a folder it cannot write: 4)."""
    result = scaffold(name, model)
    rel = f"patterns/{name}"
    print(f"created {rel} (code package {result.package}) from {model}")
    print(f"{len(result.placeholders)} placeholder(s) left to fill:")
    for placeholder in result.placeholders:
        print(f"  {rel}/{placeholder}")
    print(
        f"then: ./shared/bin/catalog review {rel} (names what is left), "
        f"./shared/bin/catalog cycle {name}, ./shared/bin/catalog index"
    )
    return 0
