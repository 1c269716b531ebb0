"""`catalog new`: a pattern scaffolded from the model passes the fast tier at once, and the review
names every placeholder left to fill (and nothing else) until they are filled.

The fast tier runs in a temporary copy of the catalog whose patterns/ holds only the new pattern,
so the shared suite checks it exactly as it checks a real one, and this checkout is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.deploy import cycle
from catalog.localaws import LocalAws
from catalog.patterns import REPO_ROOT, Pattern
from catalog.review.runner import review
from catalog.scaffold import MODEL_DIR, scaffold
from catalog.testing import require_terraform

NAME = "records-kept"
FAST_TIER = [
    "tests/test_1_metadata.py",
    "tests/test_2_readme.py",
    "tests/test_3_log_retention.py",
    "tests/test_4_removal.py",
    "tests/test_5_parity.py",
    f"patterns/{NAME}/tests",
]
_LISTED = re.compile(rf"^  patterns/{NAME}/(?P<file>[^:]+):(?P<line>\d+): ", re.MULTILINE)


@pytest.fixture(scope="module")
def catalog_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog without its patterns: tooling, modules, components, the shared suite."""
    root = tmp_path_factory.mktemp("catalog") / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", ".terraform")
    for rel in ("shared/catalog", "shared/bin", "terraform", "pulumi", "tests"):
        shutil.copytree(REPO_ROOT / rel, root / rel, ignore=ignore)
    for rel in ("pyproject.toml", "README.md", "example-pattern.json"):
        shutil.copy2(REPO_ROOT / rel, root / rel)
    (root / "patterns").mkdir()
    return root


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command of the copy: its own `catalog` package first on the path, so REPO_ROOT is it."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "shared"), str(root / "pulumi")]),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def _errors(folder: Path) -> list[tuple[str, str, int | None]]:
    report = review([str(folder)], checkov=False, jobs=1)
    return sorted(
        (f.rule, Path(f.path).name, f.line) for f in report.findings if f.severity == "error"
    )


def test_new_pattern_passes_the_fast_tier_and_review_names_each_placeholder(
    catalog_copy: Path,
) -> None:
    created = _run(catalog_copy, "-m", "catalog.cli", "new", NAME, "--from", "model")
    assert created.returncode == 0, created.stderr
    folder = catalog_copy / "patterns" / NAME
    assert (folder / "src" / "records_kept" / "functions" / "put_record.py").is_file()
    listed = {(m["file"], int(m["line"])) for m in _LISTED.finditer(created.stdout)}
    assert len(listed) >= 5  # title, description, intro, author name and bio at least

    fast = _run(
        catalog_copy,
        *("-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "not deploy"),
        *("-k", f"{NAME} or records_kept", *FAST_TIER),
    )
    assert fast.returncode == 0, fast.stdout[-4000:]
    summary = fast.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary

    errors = _errors(folder)
    assert {rule for rule, _, _ in errors} == {"DOC003"}
    assert {(file, line) for _, file, line in errors} == listed

    for path in (folder / "README.md", folder / "example-pattern.json"):
        path.write_text(
            re.sub(r"<<[^<>\n]{1,80}>>", "Records stored once with AWS Lambda", path.read_text())
        )
    assert _errors(folder) == []


def test_new_from_a_catalog_pattern_gets_its_own_names(tmp_path: Path) -> None:
    result = scaffold("saga-copy", "stepfunctions-saga", patterns_dir=tmp_path / "patterns")
    root = result.root
    assert (root / "src" / "saga_copy" / "functions").is_dir()
    assert not (root / "src" / "sfn_saga").exists()
    assert (root / "tests" / "saga_copy_e2e.py").is_file()
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".tf", ".json", ".txt", ".yaml"):
            text = path.read_text()
            assert "sfn_saga" not in text, path
            assert "stepfunctions-saga" not in text, path
    assert {p.file for p in result.placeholders} == {"README.md", "example-pattern.json"}
    units = subprocess.run(
        # The unit and definition tests; the end-to-end ones deploy from the catalog's patterns/.
        # Outside the catalog no pyproject loads the moto fixtures plugin, so name it here.
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "catalog.moto_fixtures",
            "-q",
        ]
        + [str(root / "tests" / f"test_saga_{kind}.py") for kind in ("handlers", "definition")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert units.returncode == 0, units.stdout[-3000:]


@pytest.mark.parametrize(
    ("name", "model", "message"),
    [
        ("Bad_Name", "model", "invalid pattern name"),
        ("x" * 33, "model", "invalid pattern name"),
        ("json", "model", "would shadow an installed module"),
        ("fine-name", "no-such-model", "unknown model"),
        ("taken", "model", "already exists"),
    ],
)
def test_new_bad_input_one_line_on_stderr_exit_3_nothing_created(
    catalog_copy: Path, name: str, model: str, message: str
) -> None:
    patterns = catalog_copy / "patterns"
    (patterns / "taken").mkdir(exist_ok=True)
    before = sorted(p.name for p in catalog_copy.iterdir()) + sorted(
        p.name for p in patterns.iterdir()
    )
    result = _run(catalog_copy, "-m", "catalog.cli", "new", name, "--from", model)
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("catalog: error: ")
    assert message in result.stderr and "Traceback" not in result.stderr
    after = sorted(p.name for p in catalog_copy.iterdir()) + sorted(
        p.name for p in patterns.iterdir()
    )
    assert after == before
    (patterns / "taken").rmdir()


def test_the_model_is_outside_patterns_and_complete() -> None:
    """The model is tooling, not a pattern: the suite never runs it twice. It has every part."""
    assert not MODEL_DIR.resolve().is_relative_to(REPO_ROOT / "patterns")
    for rel in (
        "README.md",
        "example-pattern.json",
        "src/requirements.txt",
        "terraform/main.tf",
        "pulumi/__main__.py",
        "pulumi/Pulumi.yaml",
        "events/success.json",
        "tests/conftest.py",
    ):
        assert (MODEL_DIR / rel).is_file(), rel


@pytest.mark.deploy
def test_new_pattern_deploy_destroy_cycle(tmp_path: Path) -> None:
    """The model works end to end: apply, no drift, its scenario, destroy, nothing left."""
    require_terraform()
    pattern = Pattern(scaffold(NAME, patterns_dir=tmp_path / "patterns").root)
    with LocalAws() as aws:
        report = cycle(pattern, aws)
        assert not any(aws.inventory().values())
    assert report.drift is False
    assert [r.scenario for r in report.results] == ["success"]
