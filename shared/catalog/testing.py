"""pytest plugin (loaded with `-p catalog.testing`): the embedded AWS and deployed patterns.

`local_aws` is one embedded AWS for the whole session. `deployed_pattern(name)` deploys a pattern's
Terraform root onto it once per session and destroys it at the end, so pattern tests exercise the
stack a user would get.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .deploy import Deployment, deploy, destroy
from .localaws import LocalAws
from .patterns import REPO_ROOT, Pattern, load


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the session's embedded AWS run last.

    moto's state is process-wide, so only one LocalAws runs at a time: tests that start one of
    their own (the embedded AWS's own tests, the deploy-destroy cycles that need an empty account)
    must run before the session instance starts.
    """
    items.sort(key=lambda item: "local_aws" in getattr(item, "fixturenames", ()))


def require_terraform() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: install Terraform >= 1.6 to run deploy tests")


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


@pytest.fixture(scope="session")
def deployed_pattern(local_aws: LocalAws) -> Iterator[Callable[[str], Deployment]]:
    deployments: dict[str, Deployment] = {}

    def get(name: str) -> Deployment:
        if name not in deployments:
            require_terraform()
            deployments[name] = deploy(load(name), local_aws)
        return deployments[name]

    yield get
    for deployment in deployments.values():
        destroy(deployment)


# ------------------------------------------------------------------ planted defects
def plant(path: Path, *edits: tuple[str, str]) -> None:
    """Apply a deliberate defect to a copy: each (regex, replacement) must match, so a defect that
    no longer applies to the source fails loudly instead of leaving the copy intact."""
    text = path.read_text()
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE | re.DOTALL)
        assert count, f"defect not planted: {pattern!r} not found in {path}"
    path.write_text(text)


def copy_repo_parts(pattern: Pattern, target: Path, *folders: str) -> Path:
    """`patterns/<name>` (no tests, no builds) and the named repository folders, laid out as in
    the repository so relative module sources resolve; returns the pattern's copy."""
    ignore = shutil.ignore_patterns("build", "tests", ".terraform", "__pycache__")
    copy = target / "patterns" / pattern.name
    shutil.copytree(pattern.root, copy, ignore=ignore)
    for folder in folders:
        shutil.copytree(REPO_ROOT / folder, target / folder, ignore=ignore)
    return copy


@contextmanager
def components_from(repo_copy: Path) -> Iterator[None]:
    """Programs run meanwhile import `catalog_pulumi` from `repo_copy/pulumi` (a broken copy):
    the imported one is hidden and the copy put first on sys.path; both restored afterwards."""
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] == "catalog_pulumi"}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(repo_copy / "pulumi"))
    try:
        yield
    finally:
        sys.path.remove(str(repo_copy / "pulumi"))
        for name in [n for n in sys.modules if n.split(".")[0] == "catalog_pulumi"]:
            del sys.modules[name]
        sys.modules.update(saved)
