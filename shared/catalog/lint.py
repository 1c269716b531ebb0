"""`catalog lint`: the static checks that the test command runs first, so CI runs them too.

Steps, in order, stopping at the first that fails (the slow suite never starts on a lint failure):
ruff check, ruff format --check, the import contracts (import-linter), terraform fmt -check,
terraform validate of every shared module and every pattern root, then the GitHub workflows' JSON Schema check and security audit. Every tool is
the project's own pinned copy (requirements.lock, Terraform from PATH); nothing reaches the network
but `terraform init` when no provider mirror is configured.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import contracts
from .engines import terraform as engines_terraform
from .engines.terraform import _COPY_IGNORE as COPY_IGNORE
from .engines.terraform import PLUGIN_DIR_ENV, adapt_for_local_provider, plugin_dir_args

PLUGIN_CACHE_ENV = "TF_PLUGIN_CACHE_DIR"


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    seconds: float
    output: str
    fix: str = ""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Path], tuple[bool, str]]
    fix: str  # the command that repairs what the step reports, when one exists


def _tool(name: str) -> str:
    """A console script of the environment the catalog runs in (the pinned version), else PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _run(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[bool, str]:
    try:
        done = subprocess.run(
            list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return False, f"{args[0]} is not installed (run ./shared/bin/catalog once to set it up)"
    return done.returncode == 0, (done.stdout + done.stderr).strip()


# ---------------------------------------------------------------- python
def ruff_check(root: Path) -> tuple[bool, str]:
    return _run([_tool("ruff"), "check", "--no-fix", "."], root)


def ruff_format(root: Path) -> tuple[bool, str]:
    return _run([_tool("ruff"), "format", "--check", "."], root)


# ---------------------------------------------------------------- terraform
def _terraform_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
    # One provider cache for every init: the provider is linked from it, not copied (700 MB) each time.
    cache = Path(env.get(PLUGIN_CACHE_ENV) or root / ".tools" / "terraform-plugin-cache")
    cache.mkdir(parents=True, exist_ok=True)
    env[PLUGIN_CACHE_ENV] = str(cache)
    return env


def terraform_fmt(root: Path) -> tuple[bool, str]:
    ok, output = _run(["terraform", "fmt", "-check", "-recursive", "-no-color", "."], root)
    return ok, "\n".join(line for line in output.splitlines() if line.endswith(".tf")) or output


def terraform_targets(root: Path) -> list[Path]:
    """Every shared module and every pattern root, relative to the repository."""
    folders = sorted((root / "terraform" / "modules").glob("*/")) + sorted(
        (root / "patterns").glob("*/terraform/")
    )
    return [folder.relative_to(root) for folder in folders if any(folder.glob("*.tf"))]


def _validate_key(root: Path, targets: list[Path]) -> str:
    """What a validation result depends on: the modules, every file a root can read (its .tf
    files, templates such as a state machine definition: anything but Python, build output and
    tests), the adaptation, Terraform's version and the mirror."""
    digest = hashlib.sha256()
    skipped = {"build", "tests", "__pycache__", ".terraform"}
    files = [*(root / "terraform").rglob("*.tf")]
    files += [
        path
        for path in (root / "patterns").glob("*/**/*")
        if path.is_file()
        and path.suffix != ".py"
        and not skipped & set(path.relative_to(root).parts)
    ]
    files.append(Path(engines_terraform.__file__))
    for path in sorted(files):
        digest.update(
            str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode()
        )
        digest.update(path.read_bytes())
    _, version = _run(["terraform", "version", "-json"], root)
    digest.update(version.encode())
    digest.update(os.environ.get(PLUGIN_DIR_ENV, "").encode())
    digest.update("\n".join(map(str, targets)).encode())
    return digest.hexdigest()


def terraform_validate(root: Path) -> tuple[bool, str]:
    """`terraform init -backend=false` + `validate` of every target in one temporary copy.

    With a provider mirror (offline) the copy gets the same adaptation as a deploy cycle, so the
    durable root is validated against the provider that exists here; otherwise it is used as written.
    Each run loads the 700 MB provider once per target; a result is kept (in .tools/) against the
    hash of everything it depends on, so an unchanged tree is not validated twice.
    """
    targets = terraform_targets(root)
    stamp = root / ".tools" / "lint" / "terraform-validate.sha256"
    key = _validate_key(root, targets)
    if stamp.is_file() and stamp.read_text() == key:
        return True, f"{len(targets)} targets unchanged since their last successful validate"
    ok, output = _validate_all(root, targets)
    if ok:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        written = stamp.with_name(f"{stamp.name}.{os.getpid()}")  # two runs never mix their writes
        written.write_text(key)
        written.replace(stamp)
    return ok, output


def _validate_all(root: Path, targets: list[Path]) -> tuple[bool, str]:
    """Validate the roots, and each module through a root that calls it (else on its own).

    `terraform validate` of a root checks its whole module tree, so a module a root calls is
    validated there; a module no root calls is validated alone. Every validate loads the 700 MB
    provider (3-4 s of CPU), so this halves the cost without leaving any module out.
    """
    env = _terraform_env(root)
    init = ["terraform", "init", "-backend=false", "-input=false", "-no-color", *plugin_dir_args()]
    with tempfile.TemporaryDirectory(prefix="catalog-lint-tf-") as temp:
        base = Path(temp)
        shutil.copytree(root / "terraform", base / "terraform", ignore=COPY_IGNORE)
        for pattern_root in (root / "patterns").glob("*/terraform/"):
            name = pattern_root.parent.name
            shutil.copytree(pattern_root.parent, base / "patterns" / name, ignore=COPY_IGNORE)
        notes = []
        if os.environ.get(PLUGIN_DIR_ENV):
            notes = [f"  offline adaptation: {change}" for change in adapt_for_local_provider(base)]

        def cache_locked(mode: int, args: list[str], target: Path) -> tuple[bool, str]:
            # Terraform's plugin cache is not safe for concurrent use: an init may replace the
            # provider that another workspace links to, so a validate reading it then finds "no
            # package". One init at a time, and none while a validate runs (threads and other
            # runs alike); validates share the lock, so they still overlap one another.
            with open(Path(env[PLUGIN_CACHE_ENV]) / ".init.lock", "w") as lock:
                fcntl.flock(lock, mode)
                return _run(args, base / target, env)

        def validate(target: Path) -> tuple[bool, str]:
            ok, output = cache_locked(fcntl.LOCK_EX, init, target)
            if not ok:
                return ok, output
            return cache_locked(fcntl.LOCK_SH, ["terraform", "validate", "-no-color"], target)

        roots = [target for target in targets if target.parts[0] == "patterns"]
        workers = max(1, min(len(targets), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            checked = dict(zip(roots, pool.map(validate, roots), strict=True))
            callers = {
                module: root_dir for root_dir in roots for module in _called_modules(base, root_dir)
            }
            alone = [t for t in targets if t not in roots and t not in callers]
            checked.update(zip(alone, pool.map(validate, alone), strict=True))
    lines = []
    for target in targets:
        if target in checked:
            ok, _ = checked[target]
            lines.append(f"{target}: {'valid' if ok else 'INVALID'}")
        else:
            ok, _ = checked[callers[target]]
            lines.append(f"{target}: {'valid' if ok else 'INVALID'} (through {callers[target]})")
    lines += [f"{target}:\n{output}" for target, (ok, output) in checked.items() if not ok]
    return all(ok for ok, _ in checked.values()), "\n".join(lines + notes)


def _called_modules(base: Path, root_dir: Path) -> set[Path]:
    """The local modules an initialised root calls (from Terraform's own modules.json)."""
    manifest = base / root_dir / ".terraform" / "modules" / "modules.json"
    if not manifest.is_file():
        return set()
    called = set()
    for module in json.loads(manifest.read_text()).get("Modules", []):
        folder = (base / root_dir / module.get("Dir", "")).resolve()
        if module.get("Key") and folder.is_relative_to(base.resolve()):
            called.add(folder.relative_to(base.resolve()))
    return called


# ---------------------------------------------------------------- workflows
def _workflows(root: Path) -> list[str]:
    folder = root / ".github" / "workflows"
    return sorted(
        str(path.relative_to(root))
        for pattern in ("*.yml", "*.yaml")
        for path in folder.glob(pattern)
    )


def workflow_schema(root: Path) -> tuple[bool, str]:
    """GitHub's workflow schema, as vendored in check-jsonschema (no download)."""
    files = _workflows(root)
    if not files:
        return True, "no workflows"
    return _run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files], root
    )


def workflow_audit(root: Path) -> tuple[bool, str]:
    """zizmor's security audit (unpinned actions, broad permissions, persisted credentials...)."""
    files = _workflows(root)
    if not files:
        return True, "no workflows"
    return _run([_tool("zizmor"), "--offline", "--no-progress", "--quiet", *files], root)


def import_contracts(root: Path) -> tuple[bool, str]:
    """import-linter: the layers run one way, shared/ imports no pattern (catalog.contracts)."""
    with tempfile.TemporaryDirectory(prefix="catalog-contracts-") as folder:
        ok, output = contracts.check(root, contracts.write_config(root, Path(folder)))
    return ok, output


STEPS: tuple[Step, ...] = (
    Step("ruff", ruff_check, "ruff check --fix ."),
    Step("format", ruff_format, "ruff format ."),
    Step("imports", import_contracts, ""),
    Step("terraform-fmt", terraform_fmt, "terraform fmt -recursive ."),
    Step("terraform-validate", terraform_validate, ""),
    Step("workflow-schema", workflow_schema, ""),
    Step("workflow-audit", workflow_audit, ""),
)
STEP_NAMES = tuple(step.name for step in STEPS)


def lint(root: Path, only: Sequence[str] = ()) -> list[StepResult]:
    """Run the steps (all, or those named) in order; stop at the first failure."""
    results: list[StepResult] = []
    for step in STEPS:
        if only and step.name not in only:
            continue
        started = time.perf_counter()
        ok, output = step.run(root)
        results.append(StepResult(step.name, ok, time.perf_counter() - started, output, step.fix))
        if not ok:
            break
    return results
