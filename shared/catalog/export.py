"""`catalog export PATTERN DEST`: one pattern as a folder that stands on its own.

The folder holds the pattern's sources, events, metadata and standalone tests; its Terraform root
with the shared modules it uses vendored under `terraform/modules/` (sources rewritten, confirmed by
parsing again); its Pulumi program with the catalog code it imports vendored as a local package that
`pulumi/requirements.txt` installs; and `build.py`, which runs the catalog's own packaging module
(vendored, standard library only) so the zips are byte-identical to `catalog build`.

The export is written to a temporary sibling of DEST and renamed into place, so DEST is either the
old content or the complete new one. A marker file says that a folder is an export, so exporting
again replaces it; any other existing folder is refused.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

from . import interrupts, packaging
from .commands import BadInput
from .patterns import EXPORT_MARKER, METADATA_FILE, REPO_ROOT, Pattern

MARKER = EXPORT_MARKER
MODULES_DIR = Path("terraform") / "modules"
VENDOR_DIR = Path("pulumi") / "vendor"
BUILD_SCRIPT = "build.py"
SHARED_MODULES = REPO_ROOT / "terraform" / "modules"
COMPONENTS = REPO_ROOT / "pulumi" / "catalog_pulumi"
TESTING_PLUGIN = Path(__file__).with_name("testing.py")
# The in-process moto fixtures (pytest, moto and the standard library only): copied into tests/.
MOTO_FIXTURES = Path(__file__).with_name("moto_fixtures.py")
_MOTO_FIXTURES_THIRD_PARTY = {"boto3", "moto", "pytest"}
# Third-party imports the vendored code may have: what the Pulumi program installs anyway.
_VENDOR_THIRD_PARTY = {"pulumi", "pulumi_aws"}
_IGNORE = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    "build",
    "venv",
    ".venv",
    ".terraform",
    ".terraform.lock.hcl",
    "*.tfstate*",
    "*.tfplan",
    "Pulumi.*.yaml",
    "*.zip",
)
_SOURCE_LINE = re.compile(r'^(?P<head>\s*source\s*=\s*)"(?P<value>[^"]*)"(?P<tail>\s*(?:#.*)?)$')


class ExportError(BadInput):
    """The export cannot be written; the message says why. Nothing was changed (exit 3)."""


@dataclass
class ExportResult:
    dest: Path
    files: int = 0
    size: int = 0
    modules: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    tests_left_out: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- the command
def export_pattern(pattern: Pattern, dest: Path) -> ExportResult:
    """Write `pattern` as a standalone folder at `dest` (replacing an earlier export there)."""
    dest = Path(os.path.abspath(dest))
    _check_destination(pattern, dest)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.export-", dir=dest.parent))
    except OSError as exc:
        raise ExportError(f"cannot write next to {dest}: {exc.strerror or exc}") from exc
    try:
        result = _write(pattern, staging)
        problems = escapes(staging, pattern)
        if problems:
            raise ExportError("the export would refer outside itself: " + "; ".join(problems))
        _swap_into_place(staging, dest)
    except OSError as exc:
        raise ExportError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.dest = dest
    return result


def _check_destination(pattern: Pattern, dest: Path) -> None:
    if not dest.parent.is_dir():
        raise ExportError(f"{dest.parent} is not an existing folder (create it first)")
    real = dest.resolve()
    if real.is_relative_to(REPO_ROOT / "patterns") or real.is_relative_to(pattern.root):
        raise ExportError(f"{dest} is inside the catalog's patterns/: export to another folder")
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ExportError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).is_file():
        raise ExportError(
            f"{dest} exists and is not an earlier export (no {MARKER}): choose a new or empty folder"
        )


def _swap_into_place(staging: Path, dest: Path) -> None:
    """Rename the finished export onto DEST; an earlier export moves aside first, then goes."""
    if not dest.exists():
        staging.rename(dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    try:
        dest.rename(old / "export")
        staging.rename(dest)
    except OSError:
        if (old / "export").exists() and not dest.exists():
            (old / "export").rename(dest)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _write(pattern: Pattern, out: Path) -> ExportResult:
    result = ExportResult(out)
    for child in sorted(pattern.root.iterdir()):
        if child.name in ("build", "tests") or child.name.startswith("."):
            continue
        if child.is_dir():
            shutil.copytree(child, out / child.name, ignore=_IGNORE)
        elif child.name != METADATA_FILE and child.name != "README.md":
            shutil.copy2(child, out / child.name)
    result.modules = vendor_terraform(pattern.root / "terraform", out / "terraform")
    vendor_pulumi(out / "pulumi")
    (out / BUILD_SCRIPT).write_text(BUILD_PY)
    (out / ".gitignore").write_text(GITIGNORE)
    result.tests, result.tests_left_out = _export_tests(pattern.root / "tests", out / "tests")
    local_tests = bool(result.tests)
    readme = pattern.root / "README.md"
    if readme.is_file():  # a test fixture may have none; the review asks a pattern for one
        (out / "README.md").write_text(rewrite_readme(readme.read_text(), pattern, local_tests))
    metadata = _rewrite_strings(pattern.metadata, pattern, local_tests)
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    (out / MARKER).write_text(
        json.dumps({"exported_by": "catalog export", "pattern": pattern.name}, indent=2) + "\n"
    )
    files = [p for p in out.rglob("*") if p.is_file()]
    result.files, result.size = len(files), sum(p.stat().st_size for p in files)
    return result


@contextmanager
def temporary_export(pattern: Pattern) -> Iterator[tuple[Pattern, ExportResult | None]]:
    """`pattern` exported to a temporary folder, removed afterwards (an export is used as it is).

    The deploy cycle runs from here, so every cycle also proves the pattern stands on its own.
    """
    if pattern.exported:
        yield pattern, None
        return
    base = Path(tempfile.mkdtemp(prefix=f"catalog-export-{pattern.name}-"))
    try:
        result = export_pattern(pattern, base / pattern.name)
        yield Pattern(result.dest), result
    finally:
        with interrupts.deferred():
            shutil.rmtree(base, ignore_errors=True)


def run_build_script(root: Path) -> dict[str, Path]:
    """An export's own `build.py` (isolated interpreter: nothing of the catalog on sys.path)."""
    env = dict(os.environ)
    uv = packaging.uv_command()
    if uv:  # the script finds uv on PATH only; without it, it falls back to pip
        env["PATH"] = os.pathsep.join([str(Path(uv).parent), env.get("PATH", "")])
    result = interrupts.run([sys.executable, "-I", BUILD_SCRIPT], cwd=root, env=env)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-400:] or f"exit {result.returncode}"
        raise packaging.PackagingError(f"{root / BUILD_SCRIPT} failed: {detail}")
    zips = {}
    for line in result.stdout.splitlines():
        name, _, path = line.partition(": ")
        if path:
            zips[name] = Path(path)
    return zips


# ---------------------------------------------------------------- Terraform
def module_sources(path: Path) -> list[str]:
    """The `source` of every module block in one .tf file, as python-hcl2 parses it."""
    try:
        parsed = hcl2.loads(path.read_text())
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        raise ExportError(f"{path.name}: cannot parse HCL ({exc})") from exc
    sources = []
    for block in parsed.get("module", []):
        for body in block.values():
            value = str(body.get("source", ""))
            sources.append(value[1:-1] if value.startswith('"') else value)
    return sources


def vendor_terraform(source_root: Path, out_root: Path) -> list[str]:
    """Copy every shared module the root uses (transitively) into out_root/modules/, rewrite sources.

    A pattern folder outside the repository (a scaffold, a test's copy) is read as if it were
    `patterns/<name>/`, the layout its relative sources are written for (and the one a Terraform
    workspace lays out).
    """
    vendored: dict[Path, str] = {}
    pattern_root = source_root.parent.resolve()
    in_repository = REPO_ROOT / "patterns" / pattern_root.name
    queue = [(source_root, out_root)]
    while queue:
        source_dir, out_dir = queue.pop()
        for tf in sorted(out_dir.glob("*.tf")):
            rewrites: dict[str, str] = {}
            for source in module_sources(tf):
                if not source.startswith(("./", "../")):
                    continue  # a registry or git source stands alone already
                target = (source_dir / source).resolve()
                if target.is_relative_to(pattern_root):
                    continue  # inside the pattern: copied with it
                if not target.is_relative_to(
                    SHARED_MODULES
                ) and source_dir.resolve().is_relative_to(pattern_root):
                    relative = source_dir.resolve().relative_to(pattern_root)
                    target = (in_repository / relative / source).resolve()
                if not target.is_relative_to(SHARED_MODULES) or not target.is_dir():
                    raise ExportError(
                        f"{tf.name}: module source {source} is neither in the pattern nor a "
                        "catalog module"
                    )
                if target not in vendored:
                    vendored[target] = target.name
                    copy = out_root / "modules" / target.name
                    shutil.copytree(target, copy, ignore=_IGNORE)
                    queue.append((target, copy))
                new = Path(os.path.relpath(out_root / "modules" / target.name, out_dir)).as_posix()
                rewrites[source] = new if new.startswith("../") else f"./{new}"
            if rewrites:
                rewrite_module_sources(tf, rewrites)
    return sorted(vendored.values())


def rewrite_module_sources(tf: Path, rewrites: dict[str, str]) -> None:
    """Replace module `source` values, then parse again to confirm exactly those changed."""
    before = module_sources(tf)
    lines = tf.read_text().splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = _SOURCE_LINE.match(line.rstrip("\n"))
        if match and match.group("value") in rewrites:
            new = rewrites[match.group("value")]
            lines[index] = f'{match.group("head")}"{new}"{match.group("tail")}\n'
    text = "".join(lines)
    tf.write_text(text)
    after = module_sources(tf)
    if after != [rewrites.get(s, s) for s in before]:
        raise ExportError(f"{tf.name}: module sources could not be rewritten safely")


# ---------------------------------------------------------------- Pulumi
def vendor_pulumi(program_dir: Path) -> None:
    """Vendor the catalog code the program imports, install it from requirements.txt."""
    vendor = program_dir.parent / VENDOR_DIR
    (vendor / "catalog").mkdir(parents=True)
    (vendor / "catalog" / "__init__.py").write_text(
        '"""The part of the catalog tooling a standalone pattern needs: packaging."""\n'
    )
    for module in _catalog_closure(Path(packaging.__file__)):
        _check_standalone(module, set())
        shutil.copy2(module, vendor / "catalog" / module.name)
    packages = ["catalog"]
    imported: set[str] = set()
    if program_dir.is_dir():
        for path in sorted(program_dir.glob("*.py")):
            imported |= _absolute_imports(path.read_text(), path)
        for name in sorted(imported):
            if name.split(".")[0] == "catalog" and name not in ("catalog", "catalog.packaging"):
                raise ExportError(
                    f"the Pulumi program imports {name}: only catalog.packaging stands alone"
                )
    if any(name.split(".")[0] == "catalog_pulumi" for name in imported):
        shutil.copytree(COMPONENTS, vendor / "catalog_pulumi", ignore=_IGNORE)
        for path in sorted((vendor / "catalog_pulumi").glob("*.py")):
            _check_standalone(path, _VENDOR_THIRD_PARTY)
        packages.append("catalog_pulumi")
    (vendor / "pyproject.toml").write_text(VENDOR_PYPROJECT.format(packages=json.dumps(packages)))
    if not program_dir.is_dir():
        return
    for path in sorted(program_dir.glob("*.py")):
        path.write_text(without_sys_path_edits(path.read_text(), path))
    requirements = program_dir / "requirements.txt"
    lines = requirements.read_text().splitlines() if requirements.is_file() else []
    kept = [line.strip() for line in lines if line.strip() and not _local_requirement(line)]
    requirements.write_text(PULUMI_REQUIREMENTS + "\n".join([*kept, "./vendor"]) + "\n")


def _local_requirement(line: str) -> bool:
    """A comment or a requirement on a local path (the catalog's packages in the repository):
    the vendored package replaces it."""
    line = line.split(" #")[0].strip()
    if line.startswith(("#", ".", "/", "-e", "--editable", "file:")):
        return True
    _, at, location = line.partition("@")
    return bool(at) and location.strip().startswith(("file:", ".", "/"))


def _absolute_imports(text: str, path: Path) -> set[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ExportError(f"{path.name}: cannot parse Python ({exc.msg})") from exc
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _catalog_closure(start: Path) -> list[Path]:
    """`start` and the catalog modules it imports relatively (`from . import x`), transitively."""
    found, queue = [start], [start]
    while queue:
        tree = ast.parse(queue.pop().read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            if node.level > 1:
                raise ExportError(f"{start.name}: imports from outside catalog/ ({node.module})")
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                module = start.parent / f"{name.split('.')[0]}.py"
                if not module.is_file():
                    raise ExportError(f"{start.name} imports catalog.{name}: not a module file")
                if module not in found:
                    found.append(module)
                    queue.append(module)
    return found


def _check_standalone(path: Path, allowed: set[str]) -> None:
    """Vendored code imports the standard library (and `allowed`) only."""
    for name in _absolute_imports(path.read_text(), path):
        top = name.split(".")[0]
        if top not in sys.stdlib_module_names and top not in allowed:
            raise ExportError(f"{path.name} imports {name}: it cannot be vendored standalone")


def without_sys_path_edits(text: str, path: Path) -> str:
    """The program without top-level statements that edit sys.path (and what only they used).

    A vendored program finds its packages installed; a repository-relative import path would point
    outside the export. Statements are removed by the line ranges the parser gives, and the result
    must parse again.
    """
    tree = ast.parse(text)
    body = list(tree.body)
    drop = [stmt for stmt in body if _touches_sys_path(stmt)]
    if not drop:
        return text
    while True:
        kept = [s for s in body if s not in drop]
        used = {
            n.id
            for s in kept
            for n in ast.walk(s)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        orphans = [
            s
            for s in kept
            if isinstance(s, ast.Assign)
            and all(isinstance(t, ast.Name) and t.id.startswith("_") for t in s.targets)
            and not {t.id for t in s.targets if isinstance(t, ast.Name)} & used
        ]
        orphans += [
            s
            for s in kept
            if isinstance(s, ast.Import)
            and [a.name for a in s.names] == ["sys"]
            and "sys" not in used
        ]
        if not orphans:
            break
        drop += orphans
    lines = text.splitlines(keepends=True)
    removed: set[int] = set()
    for stmt in drop:
        first = stmt.lineno - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1  # the comment that explains the removed statement goes with it
        removed |= set(range(first, stmt.end_lineno or stmt.lineno))
    result = "".join(line for index, line in enumerate(lines) if index not in removed)
    result = re.sub(r"\n{3,}(?=\S)", "\n\n", result)
    try:
        ast.parse(result)
    except SyntaxError as exc:
        raise ExportError(f"{path.name}: removing sys.path edits broke the program") from exc
    return result


def _touches_sys_path(stmt: ast.stmt) -> bool:
    return any(
        isinstance(n, ast.Attribute)
        and n.attr == "path"
        and isinstance(n.value, ast.Name)
        and n.value.id == "sys"
        for n in ast.walk(stmt)
    )


# ---------------------------------------------------------------- tests
def _plugin_fixtures() -> set[str]:
    tree = ast.parse(TESTING_PLUGIN.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("fixture" in ast.unparse(d) for d in node.decorator_list)
    }


def _is_fixture(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        "fixture" in ast.unparse(d) for d in node.decorator_list
    )


def _imported_tops(nodes: list[ast.stmt]) -> set[str]:
    found = set()
    for node in (n for stmt in nodes for n in ast.walk(stmt)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _export_tests(tests_dir: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """Copy the tests that need no catalog tooling (imports, plugin fixtures); say why others not.

    A module is left out when code outside its fixtures imports the catalog, directly or through a
    helper module next to it, or when a test asks for a fixture that needs the catalog (one of the
    plugin's, one whose body imports the catalog, or one built on those). A conftest.py that
    imports the catalog stays behind with all its fixtures (nothing is kept if one is autouse);
    the `pytest.ini` written at the export's root puts src/ and tests/ on the import path, as the
    pattern's conftest does in the catalog, and loads the in-process moto fixtures
    (catalog.moto_fixtures, copied into tests/), as pyproject.toml does in the catalog.
    """
    if not tests_dir.is_dir():
        return [], {}
    trees = {p.stem: ast.parse(p.read_text()) for p in sorted(tests_dir.glob("*.py"))}
    local = set(trees)

    def module_level(name: str) -> list[ast.stmt]:
        return [s for s in trees[name].body if not _is_fixture(s)]

    def tooling(name: str, seen: frozenset[str] = frozenset()) -> str | None:
        for imported in sorted(_imported_tops(module_level(name))):
            if imported in ("catalog", "catalog_pulumi"):
                return f"imports {imported}"
            if imported in local and imported not in seen:
                why = tooling(imported, seen | {name})
                if why:
                    return f"{imported}.py {why}"
        return None

    def fixture_defs(name: str) -> list[ast.FunctionDef]:
        return [n for n in trees[name].body if isinstance(n, ast.FunctionDef) and _is_fixture(n)]

    conftest_why = tooling("conftest") if "conftest" in trees else None
    if conftest_why and any(
        "autouse" in ast.unparse(d) for f in fixture_defs("conftest") for d in f.decorator_list
    ):
        why = f"conftest.py {conftest_why} and has an autouse fixture"
        return [], {f"{n}.py": why for n in sorted(local) if n.startswith("test_")}
    # What a test module sees besides its own fixtures: the plugin's and conftest.py's.
    bound = _plugin_fixtures()
    fixtures: dict[str, set[str]] = {}
    for node in fixture_defs("conftest") if "conftest" in trees else []:
        fixtures[node.name] = {a.arg for a in node.args.args}
        if conftest_why or _imported_tops(node.body) & {"catalog", "catalog_pulumi"}:
            bound.add(node.name)
    changed = True
    while changed:
        changed = False
        for fixture, params in fixtures.items():
            if fixture not in bound and params & bound:
                bound.add(fixture)
                changed = True

    kept, left_out = [], {}
    for name in sorted(n for n in local if n.startswith("test_")):
        why = tooling(name)
        own = {f.name: f for f in fixture_defs(name)}  # they shadow conftest's of that name
        if why is None:
            why = next(
                (
                    f"its fixture {f} imports the catalog"
                    for f, node in own.items()
                    if _imported_tops(node.body) & {"catalog", "catalog_pulumi"}
                ),
                None,
            )
        if why is None:
            requested = {
                a.arg
                for node in trees[name].body
                if isinstance(node, ast.FunctionDef)
                and (node.name.startswith("test") or _is_fixture(node))
                for a in node.args.args
            } - set(own)
            if requested & bound:
                why = f"needs the catalog's fixtures ({', '.join(sorted(requested & bound))})"
        if why:
            left_out[f"{name}.py"] = why
        else:
            kept.append(name)
    if not kept:
        return [], left_out
    out.mkdir()
    helpers = {n for n in local if not n.startswith("test_") and not tooling(n)}
    for name in sorted(set(kept) | helpers):
        shutil.copy2(tests_dir / f"{name}.py", out / f"{name}.py")
    _check_standalone(MOTO_FIXTURES, _MOTO_FIXTURES_THIRD_PARTY)
    shutil.copy2(MOTO_FIXTURES, out / MOTO_FIXTURES.name)
    third_party = sorted(
        {
            top
            for name in set(kept) | helpers
            for top in _imported_tops(module_level(name))
            if top not in sys.stdlib_module_names and top not in local
        }
        | _MOTO_FIXTURES_THIRD_PARTY
    )
    (out / "requirements.txt").write_text(_test_requirements(third_party, tests_dir.parent))
    (out.parent / PYTEST_INI).write_text(PYTEST_CONFIG)
    return [f"{n}.py" for n in kept], left_out


def _test_requirements(modules: list[str], pattern_root: Path) -> str:
    """Pinned test dependencies (the versions the catalog tested with) plus the functions' own."""
    from importlib.metadata import packages_distributions, version

    src = pattern_root / "src"
    own = {p.name for p in src.iterdir() if p.is_dir()} if src.is_dir() else set()
    listed = {
        re.split(r"[<>=\[ ;]", line.strip())[0].lower().replace("_", "-")
        for line in ((src / "requirements.txt").read_text().splitlines() if src.is_dir() else [])
        if line.strip() and not line.startswith("#")
    }
    dists = packages_distributions()
    extras = _catalog_extras()
    pins = {"pytest": f"pytest=={version('pytest')}"}
    for module in modules:
        if module in own:
            continue
        for dist in dists.get(module, []):
            key = dist.lower().replace("_", "-")
            if key not in listed:
                wanted = f"[{extras[key]}]" if key in extras else ""
                pins[dist.lower()] = f"{dist}{wanted}=={version(dist)}"
    lines = [
        "# The tests' dependencies, at the versions the catalog tested with.",
        "-r ../src/requirements.txt",
    ]
    return "\n".join([*lines, *(pins[k] for k in sorted(pins))]) + "\n"


def _catalog_extras() -> dict[str, str]:
    """The extras the catalog installs each dependency with (`moto[server]`): the tests ran with
    them (moto's EventBridge needs `jsonpath_ng`, for one)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires("serverless-pattern-catalog") or []
    except PackageNotFoundError:
        return {}
    found = {}
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*\[([^\]]+)\]", requirement)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2).replace(" ", "")
    return found


# ---------------------------------------------------------------- README and metadata
def _replacements(pattern: Pattern) -> list[tuple[re.Pattern[str], str]]:
    here = re.escape(pattern.name)
    return [
        (re.compile(r"(?<![\w/.-])(?=shared/catalog/)"), _repository_url(pattern)),
        (re.compile(rf"(?:\./shared/bin/)?catalog build {here}\b"), f"python3 {BUILD_SCRIPT}"),
        (re.compile(rf"(?<![\w/.-])patterns/{here}/"), ""),
        (re.compile(rf"(?<![\w/.-])patterns/{here}\b"), "."),
        (re.compile(r"`\.\./build`"), "the `build/` folder"),
        (
            re.compile(
                r"this repository cloned; `\./shared/bin/catalog` creates its own environment"
            ),
            f"pip or uv: `python3 {BUILD_SCRIPT}` installs the functions' requirements for the Lambda platform",
        ),
    ]


def _repository_url(pattern: Pattern) -> str:
    """Where the catalog's own files are published (from the metadata's repoURL), for links."""
    url = str(pattern.metadata.get("gitHub", {}).get("template", {}).get("repoURL", ""))
    base, found, _ = url.partition(f"patterns/{pattern.name}")
    return base if found else "the catalog's "


def _catalog_command(line: str) -> bool:
    words = line.strip().removeprefix("$ ").split()
    return bool(words) and (words[0] == "catalog" or words[0].endswith("/catalog"))


def _local_test_commands(local_tests: bool) -> list[str]:
    if not local_tests:
        return []
    return ["python3 -m pip install -r tests/requirements.txt", "python3 -m pytest tests"]


def rewrite_readme(text: str, pattern: Pattern, local_tests: bool) -> str:
    """Commands and paths for the export: catalog-only commands go, paths lose `patterns/NAME/`."""
    for regex, new in _replacements(pattern):
        text = regex.sub(new, text)
    out: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if block is None:
            out.append(line)
            if stripped.startswith("```") and stripped[3:].strip() in ("bash", "sh", "shell"):
                block = []
            continue
        if stripped.startswith("```"):
            commands = block or [
                f"{line[: len(line) - len(line.lstrip())]}{c}"
                for c in _local_test_commands(local_tests)
            ]
            if commands:
                out += [*commands, line]
            else:
                out[-1] = CATALOG_ONLY_NOTE  # instead of a block with nothing left to run
            block = None
            continue
        if not _catalog_command(line):
            block.append(line)
    title = next((i for i, line in enumerate(out) if line.startswith("# ")), -1)
    out[title + 1 : title + 1] = ["", *_export_note(pattern.name, local_tests)]
    return "\n".join(out) + "\n"


CATALOG_ONLY_NOTE = (
    "> In the catalog, `catalog run` and `catalog cycle` run this on its embedded local AWS; that"
    " tooling is not part of this export."
)


def _export_note(name: str, local_tests: bool) -> list[str]:
    tests = (
        " `python3 -m pytest tests` runs the tests that need no catalog tooling"
        " (`pip install -r tests/requirements.txt` first)."
        if local_tests
        else ""
    )
    return [
        f"> Exported from the serverless pattern catalog (pattern `{name}`): this folder stands on",
        f"> its own. `python3 {BUILD_SCRIPT}` builds one zip per function into `build/` (byte-identical",
        "> to the catalog's build); the Terraform modules it uses are in `terraform/modules/`; the",
        "> Pulumi components and packaging code are in `pulumi/vendor/`, installed by",
        f"> `pulumi/requirements.txt`.{tests}",
    ]


def _rewrite_strings(value: object, pattern: Pattern, local_tests: bool) -> object:
    """The metadata with the same command and path rewrites; catalog-only commands replaced."""
    if isinstance(value, dict):
        return {k: _rewrite_strings(v, pattern, local_tests) for k, v in value.items()}
    if isinstance(value, list):
        items = [_rewrite_strings(v, pattern, local_tests) for v in value]
        return [i for i in items if i is not None]
    if isinstance(value, str):
        for regex, new in _replacements(pattern):
            value = regex.sub(new, value)
        if re.search(r"(?:^|: |/)catalog (?!build)[a-z]+ ", value):
            tests = _local_test_commands(local_tests)
            return f"Locally: {tests[-1]}" if tests else None
        return value
    return value


# ---------------------------------------------------------------- self-containment
_PARENT_REF = re.compile(r"(?:\.\./)+[^\s\"'`)\]},;:]*")


def escapes(root: Path, pattern: Pattern) -> list[str]:
    """Every reference in `root` that points outside it: `../` escapes and catalog paths."""
    root = root.resolve()
    absolute = {str(REPO_ROOT), str(pattern.root)}
    catalog_paths = re.compile(r"(?<![\w/.-])(?:\./)?(?:patterns/|shared/(?:bin|catalog)\b)")
    problems = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            for match in _PARENT_REF.finditer(line):
                if not (path.parent / match.group(0)).resolve().is_relative_to(root):
                    problems.append(f"{rel}:{number}: {match.group(0)} leaves the folder")
            for found in absolute:
                if found in line:
                    problems.append(f"{rel}:{number}: names the catalog's folder {found}")
            if catalog_paths.search(line):
                problems.append(f"{rel}:{number}: names a catalog path ({line.strip()[:60]})")
    return problems


# ---------------------------------------------------------------- generated files
PULUMI_REQUIREMENTS = """\
# The program's dependencies. ./vendor holds the catalog code it imports (the packaging module and
# the Pulumi components), vendored by `catalog export`; pip installs it like any local package.
"""

VENDOR_PYPROJECT = """\
[project]
name = "catalog-vendored"
version = "0.1.0"
description = "The serverless pattern catalog's packaging module and Pulumi components, vendored."
requires-python = ">=3.11"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = {packages}
"""

PYTEST_INI = "pytest.ini"
PYTEST_CONFIG = f"""\
# Written by `catalog export`: the tests import the functions' package from src/ and their
# helpers from tests/ (in the catalog, the pattern's conftest.py does this); their in-process moto
# fixtures come from tests/{MOTO_FIXTURES.name} (in the catalog, the plugin catalog.moto_fixtures).
[pytest]
testpaths = tests
pythonpath = src tests
addopts = --import-mode=importlib -p {MOTO_FIXTURES.stem}
"""

GITIGNORE = """\
# Build outputs, environments and engine state of this pattern: never committed.
build/
__pycache__/
*.pyc
venv/
.venv/
.terraform/
.terraform.lock.hcl
*.tfstate
*.tfstate.backup
*.tfplan
Pulumi.*.yaml
"""

BUILD_PY = '''\
"""Build one deterministic zip per Lambda function into build/: `python3 build.py [OUT_DIR]`
(and layer.zip, the dependencies, when the metadata says `"dependencies": "layer"`).

The same code as the catalog's `catalog build` (vendored: pulumi/vendor/catalog/packaging.py), so
the zips are byte-identical. Needs Python 3.11+ and pip, or uv on PATH.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "pulumi" / "vendor" / "catalog"


def main(argv: list[str]) -> int:
    if not (VENDORED / "packaging.py").is_file():
        print(f"build.py: {VENDORED / 'packaging.py'} is missing", file=sys.stderr)
        return 2
    sys.dont_write_bytecode = True  # leave no __pycache__ in the folder
    # The vendored package itself, whatever else is installed; nothing is added to sys.path.
    spec = importlib.util.spec_from_file_location(
        "catalog", VENDORED / "__init__.py", submodule_search_locations=[str(VENDORED)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["catalog"] = package
    spec.loader.exec_module(package)
    packaging = importlib.import_module("catalog.packaging")
    try:
        zips = packaging.build_pattern(HERE, Path(argv[0]) if argv else None)
    except packaging.PackagingError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    for name, path in zips.items():
        print(f"{name}: {path}")
    layer = next(iter(zips.values())).parent / packaging.LAYER_ZIP
    if packaging.dependencies_in_layer(HERE):
        print(f"dependencies layer: {layer}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def run_export(name: str, dest: Path) -> int:
    """The CLI command: a summary on success. Bad input (an unknown pattern, a DEST that is not
    an earlier export) raises, and the CLI prints one line and exits 3."""
    from .patterns import load

    result = export_pattern(load(name), dest)
    print(
        f"{name} exported to {result.dest}: {result.files} files, {result.size:,} bytes; "
        f"modules vendored: {', '.join(result.modules) or 'none'}; "
        f"tests: {len(result.tests)} standalone"
        + (
            f", {len(result.tests_left_out)} left out (need the catalog)"
            if result.tests_left_out
            else ""
        )
    )
    return 0
