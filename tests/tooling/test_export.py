"""`catalog export`: every pattern as a standalone folder, proven with the exported files only.

Each pattern is exported once per module. There: the zips `build.py` makes are byte-identical to
`catalog build`'s; the Pulumi program runs under mocks in a fresh environment that has only what
`pulumi/requirements.txt` installs (no catalog folder on sys.path); the review finds no error; the
README's commands resolve inside the folder; nothing refers outside it. The real Terraform cycle
(build.py, init, validate, apply, drift plan, scenarios, destroy, re-apply) of every pattern runs
from a fresh export: that is the shared suite's deploy cycle (tests/test_6_deploy_destroy.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import export
from catalog.engines.pulumi_graph import run_program
from catalog.metadata import command_problems
from catalog.packaging import LAYER_ZIP, build_pattern, dependencies_in_layer
from catalog.patterns import REPO_ROOT, Pattern, discover

PATTERNS = {p.name: p for p in discover()}
UV = REPO_ROOT / ".tools" / "uv" / "bin" / "uv"
GRAPH_MODULE = REPO_ROOT / "shared" / "catalog" / "engines" / "pulumi_graph.py"
# Runs in the fresh environment: loads the mock recorder from its file (not the catalog package),
# runs the exported program, and reports where its catalog imports came from.
RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("graph_recorder", sys.argv[1])
graph = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = graph
spec.loader.exec_module(graph)
run = graph.run_program(sys.argv[2])
import catalog.packaging
modules = {"catalog.packaging": catalog.packaging.__file__}
if "catalog_pulumi" in sys.modules:
    modules["catalog_pulumi"] = sys.modules["catalog_pulumi"].__file__
print(json.dumps({
    "resources": sorted([r.type, r.name] for r in run.resources),
    "outputs": sorted(run.outputs),
    "modules": modules,
    "sys_path": sys.path,
}))
"""


def _uv_env(cache: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{UV.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if cache is not None:
        env["CATALOG_CACHE_DIR"] = str(cache)
    return env


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("exports")
    return {name: export.export_pattern(p, base / name).dest for name, p in PATTERNS.items()}


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty packaging cache: the export's build really installs the requirements itself."""
    return tmp_path_factory.mktemp("cache")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.zip")}


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_export_holds_everything_and_refers_nowhere_outside(
    name: str, exported: dict[str, Path]
) -> None:
    dest, pattern = exported[name], PATTERNS[name]
    files = _files(dest)
    for required in (
        export.MARKER,
        "README.md",
        "example-pattern.json",
        "build.py",
        "pulumi/requirements.txt",
        "pulumi/vendor/pyproject.toml",
        "pulumi/vendor/catalog/packaging.py",
        "terraform/main.tf",
    ):
        assert required in files
    assert {f"events/{n}.json" for n in pattern.scenarios} <= set(files)
    # The files a root links from terraform/pattern-root/ are real files in the export.
    links = [p.name for p in (pattern.root / "terraform").iterdir() if p.is_symlink()]
    assert links and all((dest / "terraform" / n).read_bytes() for n in links)
    assert [p for p in dest.rglob("*") if p.is_symlink()] == []
    assert (dest / "src" / "requirements.txt").read_bytes() == (
        pattern.root / "src" / "requirements.txt"
    ).read_bytes()
    for tf in (dest / "terraform").rglob("*.tf"):
        for source in export.module_sources(tf):
            if source.startswith("."):
                assert (tf.parent / source).resolve().is_relative_to(dest / "terraform" / "modules")
    # An independent scan: no `../` leaves the folder, no absolute path of this checkout.
    for rel in files:
        text = (dest / rel).read_bytes().decode("utf-8", errors="replace")
        assert str(REPO_ROOT) not in text, rel
        for line in text.splitlines():
            for word in line.replace('"', " ").replace("`", " ").split():
                if "../" in word:
                    start = word[word.index("..") :].rstrip(").,;:]}'")
                    assert (dest / rel).parent.joinpath(start).resolve().is_relative_to(dest), (
                        f"{rel}: {word}"
                    )
    assert export.escapes(dest, pattern) == []


def test_escape_scan_catches_a_reference_outside(exported: dict[str, Path], tmp_path: Path) -> None:
    name = sorted(exported)[0]
    copy = shutil.copytree(exported[name], tmp_path / name)
    (copy / "terraform" / "extra.tf").write_text(
        'module "x" {\n  source = "../../../terraform/modules/python-function"\n}\n'
    )
    (copy / "notes.md").write_text(f"see {REPO_ROOT}/shared and ./shared/bin/catalog build x\n")
    problems = export.escapes(copy, PATTERNS[name])
    assert any("extra.tf:2" in p and "leaves the folder" in p for p in problems)
    assert any("notes.md:1" in p and "names the catalog's folder" in p for p in problems)
    assert any("notes.md:1" in p and "catalog path" in p for p in problems)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_exported_build_is_byte_identical_to_catalog_build(
    name: str, exported: dict[str, Path], fresh_cache: Path, tmp_path: Path
) -> None:
    expected = _digests_of_build(PATTERNS[name], tmp_path / "catalog")
    # -I: no PYTHONPATH, no user site; build.py loads the vendored packaging module by path.
    result = subprocess.run(
        [sys.executable, "-I", "build.py", str(tmp_path / "export")],
        cwd=exported[name],
        env=_uv_env(fresh_cache),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _digests(tmp_path / "export") == expected
    layer = {LAYER_ZIP} if dependencies_in_layer(PATTERNS[name].root) else set()
    assert set(expected) == {f.zip_name for f in PATTERNS[name].functions} | layer


def _digests_of_build(pattern: Pattern, out: Path) -> dict[str, str]:
    build_pattern(pattern.root, out)
    return _digests(out)


def test_exported_build_with_pip_alone_is_byte_identical(
    exported: dict[str, Path], tmp_path: Path
) -> None:
    """No uv anywhere: the vendored packaging falls back to pip, and the bytes do not change."""
    name = "stepfunctions-saga" if "stepfunctions-saga" in exported else sorted(exported)[0]
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or shutil.which("python3")
    path = os.pathsep.join(["/usr/bin", "/bin"])
    has_pip = python and subprocess.run(
        [python, "-m", "pip", "--version"], capture_output=True, check=False
    )
    if not python or not has_pip or has_pip.returncode != 0 or shutil.which("uv", path=path):
        pytest.skip("needs a python3 with pip and no uv on /usr/bin:/bin")
    expected = _digests_of_build(PATTERNS[name], tmp_path / "catalog")
    result = subprocess.run(
        [python, "-I", "build.py", str(tmp_path / "export")],
        cwd=exported[name],
        env={**os.environ, "PATH": path, "CATALOG_CACHE_DIR": str(tmp_path / "pip-cache")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _digests(tmp_path / "export") == expected


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment without the catalog: only what requirements.txt files install."""
    if not UV.is_file():
        pytest.skip(f"{UV} is missing (created by ./shared/bin/catalog)")
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
    )
    return venv / "bin" / "python"


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_exported_pulumi_program_runs_under_mocks_without_the_catalog(
    name: str, exported: dict[str, Path], bare_python: Path, tmp_path: Path
) -> None:
    program = shutil.copytree(exported[name], tmp_path / name) / "pulumi"
    installed = subprocess.run(
        [
            *(str(UV), "pip", "install", "--quiet", "--reinstall-package", "catalog-vendored"),
            *("--python", str(bare_python), "-r", "requirements.txt"),
        ],
        cwd=program,
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    result = subprocess.run(
        [str(bare_python), "-I", str(runner), str(GRAPH_MODULE), str(program)],
        cwd=tmp_path,
        env=_uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    for path in [*seen["sys_path"], *seen["modules"].values()]:
        assert not Path(path).resolve().is_relative_to(REPO_ROOT), path
    for module in seen["modules"].values():
        assert "site-packages" in Path(module).parts
    original = run_program(PATTERNS[name].pulumi_dir)
    assert seen["resources"] == sorted([r.type, r.name] for r in original.resources)
    assert seen["outputs"] == sorted(original.outputs)


def _fresh_python(folder: Path) -> Path:
    venv = folder / "venv"
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
    )
    return venv / "bin" / "python"


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_exported_tests_pass_with_only_their_requirements(
    name: str, exported: dict[str, Path], tmp_path: Path
) -> None:
    """The pattern's standalone tests are kept, and pass inside the export in a fresh environment
    holding only tests/requirements.txt (the functions' requirements, moto, pytest): no catalog
    module is loaded and nothing of this checkout is on sys.path. Every test the catalog collects
    from those files runs there, none is skipped."""
    if not UV.is_file():
        pytest.skip(f"{UV} is missing (created by ./shared/bin/catalog)")
    copy = shutil.copytree(exported[name], tmp_path / name)
    kept = sorted(p.name for p in (copy / "tests").glob("test_*.py"))
    if not kept:
        pytest.skip(f"{name}: no test stands alone (each needs the catalog's fixtures or imports)")
    python = _fresh_python(tmp_path)
    installed = subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(python), "-r", "requirements.txt"],
        cwd=copy / "tests",
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    runner = tmp_path / "run_tests.py"
    runner.write_text(TEST_RUNNER)
    result = subprocess.run(
        [str(python), "-I", str(runner)], cwd=copy, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip(), result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0, result.stdout[-3000:]
    assert seen["catalog_modules"] == []
    for path in seen["sys_path"]:
        assert not Path(path).resolve().is_relative_to(REPO_ROOT), path
    expected = _collected([PATTERNS[name].root / "tests" / k for k in kept])
    assert seen["outcomes"] == {"passed": expected}


def _collected(files: list[Path]) -> int:
    """How many tests the catalog's own pytest collects from these files."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *map(str, files),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    return sum(1 for line in result.stdout.splitlines() if "::" in line)


# Runs inside the export: pytest as `python3 -m pytest` would, then what the session loaded.
TEST_RUNNER = """
import collections, json, sys
import pytest

class Outcomes:
    def __init__(self):
        self.counts = collections.Counter()
    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.counts[report.outcome] += 1

outcomes = Outcomes()
code = pytest.main(["-q", "-p", "no:cacheprovider"], plugins=[outcomes])
print(json.dumps({
    "exit": int(code),
    "outcomes": dict(outcomes.counts),
    "catalog_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("catalog", "catalog_pulumi")),
    "sys_path": sys.path,
}))
"""


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_exported_folder_passes_review_and_its_readme_commands_resolve(
    name: str, exported: dict[str, Path]
) -> None:
    from catalog.review.runner import review

    dest = exported[name]
    report = review([str(dest)], checkov=False, jobs=1)
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors == []
    readme = dest / "README.md"
    text = readme.read_text()
    assert command_problems(readme, text, None) == []
    assert "shared/bin/catalog" not in text
    metadata = json.loads((dest / "example-pattern.json").read_text())
    for variant in metadata["variants"].values():
        for command in variant["deploy"] + variant["cleanup"]:
            assert f"patterns/{name}" not in command
            assert not command.startswith("catalog ")


# ---------------------------------------------------------------- bad input, replacement
def test_export_again_replaces_the_earlier_export(tmp_path: Path) -> None:
    pattern = PATTERNS[sorted(PATTERNS)[0]]
    dest = tmp_path / "out"
    export.export_pattern(pattern, dest)
    (dest / "stale.txt").write_text("from an earlier export")
    first = _files(dest)
    export.export_pattern(pattern, dest)
    assert not (dest / "stale.txt").exists()
    assert _files(dest) == [f for f in first if f != "stale.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp sibling left


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog.cli", "export", *argv],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown-pattern", "unknown pattern"),
        ("non-export-folder", "is not an earlier export"),
        ("parent-is-a-file", "is not an existing folder"),
        ("unwritable", "cannot write"),
        ("inside-patterns", "inside the catalog's patterns/"),
    ],
)
def test_bad_input_one_line_on_stderr_exit_3_nothing_written(
    case: str, message: str, tmp_path: Path
) -> None:
    name = sorted(PATTERNS)[0]
    dest = tmp_path / "out"
    if case == "non-export-folder":
        dest.mkdir()
        (dest / "mine.txt").write_text("keep me")
    elif case == "parent-is-a-file":
        (tmp_path / "file").write_text("")
        dest = tmp_path / "file" / "out"
    elif case == "unwritable":
        if not Path("/proc/self").is_dir():
            pytest.skip("needs /proc (a folder even root cannot write to)")
        dest = Path("/proc") / f"catalog-export-{os.getpid()}"
    elif case == "inside-patterns":
        dest = REPO_ROOT / "patterns" / f"exported-{os.getpid()}"
    before = _files(tmp_path)
    result = _cli("no-such-pattern" if case == "unknown-pattern" else name, str(dest))
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("catalog: error: ")
    assert message in result.stderr and "Traceback" not in result.stderr
    assert _files(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {Path(b).parts[0] for b in before} | ({"out"} if case == "non-export-folder" else set())
    )
    assert not (REPO_ROOT / "patterns" / f"exported-{os.getpid()}").exists()


def test_module_outside_the_catalog_is_refused_and_nothing_written(tmp_path: Path) -> None:
    pattern = PATTERNS[sorted(PATTERNS)[0]]
    copy = shutil.copytree(pattern.root, tmp_path / "src-copy" / pattern.name)
    (copy / "terraform" / "extra.tf").write_text(
        'module "elsewhere" {\n  source = "../../somewhere/else"\n}\n'
    )
    with pytest.raises(export.ExportError, match="neither in the pattern nor a catalog module"):
        export.export_pattern(Pattern(copy), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src-copy"]


def test_local_catalog_requirements_become_the_vendored_package(tmp_path: Path) -> None:
    program = tmp_path / "pulumi"
    program.mkdir()
    (program / "__main__.py").write_text(
        "from catalog.packaging import build_pattern\nfrom catalog_pulumi import Table\n"
    )
    (program / "requirements.txt").write_text(
        "# repository-relative catalog packages\npulumi==3.272.0\n-e ../../..\n"
        "catalog-pulumi @ file:../../../pulumi\n../../../shared\npulumi-aws==7.51.1\n"
    )
    export.vendor_pulumi(program)
    lines = [
        line
        for line in (program / "requirements.txt").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert lines == ["pulumi==3.272.0", "pulumi-aws==7.51.1", "./vendor"]
    vendored = {
        p.relative_to(program / "vendor").as_posix() for p in (program / "vendor").rglob("*.py")
    }
    assert {"catalog/packaging.py", "catalog_pulumi/__init__.py"} <= vendored


def test_a_program_importing_catalog_tooling_is_refused(tmp_path: Path) -> None:
    program = tmp_path / "pulumi"
    program.mkdir()
    (program / "__main__.py").write_text("from catalog.deploy import deploy\n")
    with pytest.raises(export.ExportError, match=r"imports catalog\.deploy"):
        export.vendor_pulumi(program)


def test_standalone_selection_follows_imports_and_fixtures(tmp_path: Path) -> None:
    """A conftest.py that imports the catalog stays behind with its fixtures: a test asking for
    one of them is left out, a test with a fixture of its own (same name) is kept, and the export
    gets the pytest.ini that puts src/ and tests/ on the import path and loads the in-process moto
    fixtures, copied next to the tests with their requirements. An autouse fixture in such a
    conftest.py keeps every test out (it would run with all of them)."""
    tests = tmp_path / "pattern" / "tests"
    tests.mkdir(parents=True)
    (tests / "conftest.py").write_text(
        "import pytest\nfrom catalog.localaws import LambdaContext\n\n\n"
        "@pytest.fixture\ndef tables():\n    return LambdaContext\n"
    )
    (tests / "test_uses_conftest.py").write_text("def test_a(tables):\n    assert tables\n")
    (tests / "test_own_fixture.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef tables():\n    return 1\n\n\n"
        "def test_b(tables):\n    assert tables == 1\n"
    )
    (tests / "test_imports.py").write_text(
        "from catalog.deploy import cycle\n\n\ndef test_c():\n    assert cycle\n"
    )
    out = tmp_path / "export" / "tests"
    out.parent.mkdir()
    kept, left_out = export._export_tests(tests, out)
    assert kept == ["test_own_fixture.py"]
    assert left_out == {
        "test_imports.py": "imports catalog",
        "test_uses_conftest.py": "needs the catalog's fixtures (tables)",
    }
    assert sorted(p.name for p in out.iterdir()) == [
        "moto_fixtures.py",
        "requirements.txt",
        "test_own_fixture.py",
    ]
    assert (out / "moto_fixtures.py").read_text() == export.MOTO_FIXTURES.read_text()
    ini = (out.parent / export.PYTEST_INI).read_text()
    assert "pythonpath = src tests" in ini and "-p moto_fixtures" in ini
    assert {"moto", "boto3"} <= {
        line.split("=")[0].split("[")[0] for line in (out / "requirements.txt").read_text().split()
    }

    (tests / "conftest.py").write_text(
        (tests / "conftest.py")
        .read_text()
        .replace("@pytest.fixture", "@pytest.fixture(autouse=True)")
    )
    shutil.rmtree(out)
    kept, left_out = export._export_tests(tests, out)
    assert kept == [] and not out.exists()
    assert set(left_out.values()) == {"conftest.py imports catalog and has an autouse fixture"}
