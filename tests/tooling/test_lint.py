"""`catalog lint`: each step fails on a deliberately broken file, and the test command stops on it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from catalog.lint import STEP_NAMES, lint, terraform_targets
from catalog.patterns import REPO_ROOT

PINNED_WORKFLOW = """\
name: ok
on:
  push:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: echo hello
"""


def project(tmp_path: Path) -> Path:
    """A minimal project with the catalog's own ruff settings."""
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def step(root: Path, name: str) -> tuple[bool, str]:
    (result,) = lint(root, [name])
    return result.ok, result.output


def test_steps_run_in_order_and_stop_at_the_first_failure(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "unformatted.py").write_text("x=1\n")
    results = lint(root, ["ruff", "format", "workflow-schema"])
    assert [(r.name, r.ok) for r in results] == [("ruff", True), ("format", False)]
    assert results[1].fix == "ruff format ."


def test_format_step_fails_on_an_unformatted_python_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "good.py").write_text("x = 1\n")
    assert step(root, "format")[0] is True
    (root / "bad.py").write_text("def f( a,b ):\n  return a+b\n")
    ok, output = step(root, "format")
    assert ok is False
    assert "bad.py" in output and "good.py" not in output


def test_ruff_step_fails_on_a_lint_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "unused.py").write_text("import os\n")
    ok, output = step(root, "ruff")
    assert ok is False
    assert "F401" in output


def test_terraform_fmt_step_fails_on_an_unformatted_file(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    module = tmp_path / "terraform" / "modules" / "m"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('variable "a" {\n  type = string\n}\n')
    assert step(tmp_path, "terraform-fmt")[0] is True
    (module / "main.tf").write_text('variable "a" {\ntype=string\n}\n')
    ok, output = step(tmp_path, "terraform-fmt")
    assert ok is False
    assert "main.tf" in output


def test_every_module_and_pattern_root_is_a_validate_target() -> None:
    targets = {str(t) for t in terraform_targets(REPO_ROOT)}
    modules = {f"terraform/modules/{p.name}" for p in (REPO_ROOT / "terraform/modules").iterdir()}
    roots = {f"patterns/{p.parent.name}/terraform" for p in REPO_ROOT.glob("patterns/*/terraform")}
    assert targets == modules | roots


def lone_module(root: Path, name: str, value: str) -> Path:
    """A repository holding one module with one output, and no patterns."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    module = root / "terraform" / "modules" / name
    module.mkdir(parents=True)
    (module / "main.tf").write_text(f'output "x" {{\n  value = {value}\n}}\n')
    (root / "patterns").mkdir(exist_ok=True)
    return module


def test_terraform_validate_step_fails_on_an_invalid_module(tmp_path: Path) -> None:
    lone_module(tmp_path, "broken", "var.missing")
    ok, output = step(tmp_path, "terraform-validate")
    assert ok is False
    assert "terraform/modules/broken: INVALID" in output
    assert "var.missing" in output or "undeclared" in output.lower()


def write_workflow(root: Path, text: str) -> None:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ci.yml").write_text(text)


def test_workflow_schema_step_fails_on_a_workflow_github_rejects(tmp_path: Path) -> None:
    write_workflow(tmp_path, PINNED_WORKFLOW)
    assert step(tmp_path, "workflow-schema")[0] is True
    write_workflow(tmp_path, PINNED_WORKFLOW.replace("    runs-on: ubuntu-latest\n", ""))
    ok, output = step(tmp_path, "workflow-schema")
    assert ok is False
    assert "ci.yml" in output


def test_workflow_audit_step_fails_on_an_unpinned_action(tmp_path: Path) -> None:
    write_workflow(tmp_path, PINNED_WORKFLOW)
    assert step(tmp_path, "workflow-audit")[0] is True
    write_workflow(
        tmp_path,
        PINNED_WORKFLOW.replace("@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "@v7"),
    )
    ok, output = step(tmp_path, "workflow-audit")
    assert ok is False
    assert "unpinned-uses" in output


def test_this_repository_passes_the_fast_steps() -> None:
    fast = [name for name in STEP_NAMES if name != "terraform-validate"]
    results = lint(REPO_ROOT, fast)
    assert [(r.name, r.ok, r.output if not r.ok else "") for r in results] == [
        (name, True, "") for name in fast
    ]


def test_the_test_command_lints_first_and_never_starts_pytest_on_a_failure(
    tmp_path: Path,
) -> None:
    """`shared/bin/catalog test` on a copy of the repository with one unformatted file."""
    venv = REPO_ROOT / ".venv"
    # The stamp the entry point writes: its set-up recipe line, then the lock files' contents.
    recipe = re.search(r'echo "(recipe: [^"]*)"', (REPO_ROOT / "shared/bin/catalog").read_text())
    assert recipe, "shared/bin/catalog hashes a recipe line into its environment stamp"
    locks = f"{recipe.group(1)}\n".encode() + b"".join(
        (REPO_ROOT / name).read_bytes()
        for name in ("requirements.lock", "pyproject.toml", "shared/checkov.lock")
    )
    stamp = venv / ".lock-sha256"
    if not stamp.is_file() or stamp.read_text().strip() != hashlib.sha256(locks).hexdigest():
        # Never let the copy's set-up reinstall the shared environment.
        pytest.skip("the catalog environment (.venv) is not set up for the current lock files")
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = tmp_path / "repo"
    for name in filter(None, tracked.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    # The copy borrows the ready environment (same lock files: no set-up runs).
    (copy / ".venv").symlink_to(venv)
    (copy / ".tools").symlink_to(REPO_ROOT / ".tools")
    (copy / "shared" / "catalog" / "unformatted_on_purpose.py").write_text("x=1\n")
    done = subprocess.run(
        ["bash", str(copy / "shared" / "bin" / "catalog"), "test", "--collect-only", "-q"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lint format: FAILED" in done.stdout
    assert "unformatted_on_purpose.py" in done.stdout
    assert "the test suite was not started" in done.stderr
    assert "collected" not in done.stdout


def test_a_validate_result_is_reused_only_while_nothing_it_read_changed(tmp_path: Path) -> None:
    module = lone_module(tmp_path, "m", '"fine"')
    assert step(tmp_path, "terraform-validate") == (True, "terraform/modules/m: valid")
    assert step(tmp_path, "terraform-validate") == (
        True,
        "1 targets unchanged since their last successful validate",
    )
    (module / "main.tf").write_text('output "x" {\n  value = var.missing\n}\n')
    ok, output = step(tmp_path, "terraform-validate")
    assert ok is False and "terraform/modules/m: INVALID" in output
