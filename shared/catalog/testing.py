"""pytest plugin (loaded with `-p catalog.testing`): the embedded AWS and deployed patterns.

`local_aws` is one embedded AWS for the whole session. `deployed_pattern(name)` deploys a pattern's
Terraform root onto it once per session and destroys it at the end, so pattern tests exercise the
stack a user would get.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .deploy import Deployment, deploy, destroy
from .inspect import Variant, WorkspaceHook
from .localaws import LocalAws
from .packaging import LOCK_FILE
from .patterns import REPO_ROOT, Pattern, load

# Session fixtures whose result depends on one pattern and is worth computing once per pattern
# (tests/conftest.py): every test using one for a pattern runs on that pattern's worker.
_PER_PATTERN_FIXTURES = (
    "deployed_pattern",
    "terraform_model",
    "terraform_settings_model",
    "pulumi_model",
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist hands out the largest groups first unless told not to; the order below is what
    # keeps a worker from starting an embedded AWS of its own after the session's.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# First: pytest-xdist reads the groups in its own hook of this name on each worker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers and order.

    - A test that needs a pattern deployed by a real `terraform apply` (`deployed_pattern`) is a
      `deploy` test, like the deploy-destroy cycles: the fast tier (`-m "not deploy"`) leaves both out.
    - Tests that use the session's embedded AWS run last. moto's state is process-wide, so only
      one LocalAws runs at a time: tests that start one of their own (the embedded AWS's own tests,
      the deploy-destroy cycles that need an empty account) must run before the session's starts.
    - Under pytest-xdist (`--dist loadgroup`), the tests that share one pattern's deployment or
      plan form one group, so each pattern is deployed and planned once, on one worker. A worker
      takes whole groups in collection order, so a group with any test on the session's embedded
      AWS sorts last as a whole: no test that starts its own LocalAws can follow it there.
    """
    groups: dict[pytest.Item, str] = {}
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "deployed_pattern" in names:
            item.add_marker(pytest.mark.deploy)
        if any(name in names for name in _PER_PATTERN_FIXTURES):
            pattern = _pattern_of(item)
            if pattern is not None:
                groups[item] = f"pattern-{pattern}"
                item.add_marker(pytest.mark.xdist_group(name=groups[item]))
    on_session_aws = {groups.get(item, item.nodeid) for item in items if _uses_session_aws(item)}
    items.sort(key=lambda item: groups.get(item, item.nodeid) in on_session_aws)


def _uses_session_aws(item: pytest.Item) -> bool:
    return "local_aws" in getattr(item, "fixturenames", ())


def _pattern_of(item: pytest.Item) -> str | None:
    """The pattern a test belongs to: its `pattern` (or `pattern_name`) parameter, or the folder
    it lives in."""
    callspec = getattr(item, "callspec", None)
    for param in ("pattern", "pattern_name"):
        if callspec is not None and param in callspec.params:
            return str(getattr(callspec.params[param], "name", callspec.params[param]))
    parts = item.path.parts
    if "patterns" in parts and parts.index("patterns") + 1 < len(parts):
        return parts[parts.index("patterns") + 1]
    return None


def build_debris(build_dir: Path) -> list[str]:
    """Temporary zips or a build lock left in a build folder. A cycle builds inside its export
    (under TMPDIR), so the pattern's own build folder may not exist: then nothing is left."""
    if not build_dir.is_dir():
        return []
    return sorted(p.name for p in build_dir.iterdir() if p.suffix == ".tmp" or p.name == LOCK_FILE)


def require_terraform() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: install Terraform >= 1.6 to run deploy tests")


class EmbeddedAwsFailed(UserWarning):
    """A request an embedded AWS failed itself while its tests passed (a lost answer it served
    again, say): named in the test report's warnings summary, so a rare fault stays visible."""


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws
        # In the test report's warnings summary: a rare transport fault stays visible.
        for failure in aws.failures.since(0):
            warnings.warn(EmbeddedAwsFailed(str(failure)), stacklevel=1)


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


@pytest.fixture(scope="module")
def zips_built_once() -> Iterator[None]:
    """While a test module runs, `catalog.packaging.build_pattern` builds each pattern folder
    once (zips are deterministic): Pulumi programs run under mocks many times build them."""
    from . import packaging  # local import: only the modules that use the fixture build

    real = packaging.build_pattern
    built: dict[Path, dict[str, Path]] = {}

    def build_pattern(pattern_dir: Path, out_dir: Path | None = None) -> dict[str, Path]:
        key = Path(pattern_dir).resolve()
        if key not in built:
            built[key] = real(pattern_dir, out_dir)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packaging, "build_pattern", build_pattern)
        yield


def scenario_gaps(scenarios: Iterable[str], checked: Iterable[str]) -> dict[str, list[str]]:
    """What a test module that checks a pattern's scenarios by name misses: scenarios of the
    metadata it does not check (a new scenario needs its checks), and names it checks that the
    metadata lacks (checks left for a renamed or removed scenario)."""
    known, names = set(scenarios), set(checked)
    return {"unchecked": sorted(known - names), "unknown": sorted(names - known)}


# ------------------------------------------------------------------ Terraform variants
@dataclass(frozen=True)
class _Declared:
    variant: Variant
    pattern: str | None  # None: every pattern


PLANNED_VARIANTS: dict[str, _Declared] = {}
EVALUATED_VARIANTS: dict[str, _Declared] = {}


def planned_variant(
    name: str,
    *,
    variables: Mapping[str, object] | None = None,
    edit: WorkspaceHook | None = None,
    pattern: str | None = None,
) -> str:
    """Declare (when a test module is imported) a deliberately changed copy of each pattern's
    root (or of `pattern`'s only) that the session's `terraform_model` plans in the same
    `terraform plan` as the root: a planted defect then costs no provider start of its own.
    Returns `name`, the key a test passes to `terraform_model(pattern, name)`."""
    return _declare(PLANNED_VARIANTS, name, Variant(dict(variables or {}), edit), pattern)


def evaluated_variant(name: str, *, edit: WorkspaceHook, pattern: str | None = None) -> str:
    """The same for the mocked evaluation `terraform_settings_model` makes (parity's model)."""
    return _declare(EVALUATED_VARIANTS, name, Variant({}, edit), pattern)


def _declare(table: dict[str, _Declared], name: str, variant: Variant, pattern: str | None) -> str:
    if name in table:
        raise ValueError(f"Terraform variant {name!r} is declared twice")
    table[name] = _Declared(variant, pattern)
    return name


def variants_for(table: Mapping[str, _Declared], pattern: str) -> dict[str, Variant]:
    return {
        name: declared.variant
        for name, declared in table.items()
        if declared.pattern in (None, pattern)
    }


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


def broken_build(
    pattern_dir: Path, workdir: Path, function: str, source: str, *edits: tuple[str, str]
) -> tuple[bytes, bytes]:
    """The zip of `function` built from a copy of the pattern with `edits` planted in `source`
    (a path under src/), and the zip of the original: (broken, original)."""
    from .packaging import build_pattern  # local import: only planted-defect tests build here

    copy = workdir / "broken" / pattern_dir.name
    ignore = shutil.ignore_patterns("build", "tests", ".terraform", "__pycache__")
    shutil.copytree(pattern_dir, copy, ignore=ignore)
    plant(copy / "src" / source, *edits)
    broken = build_pattern(copy, workdir / "broken-build")[function].read_bytes()
    original = build_pattern(pattern_dir, workdir / "original-build")[function].read_bytes()
    return broken, original


@contextmanager
def running_code(
    lambda_client: Any, function_name: str, code: bytes, original: bytes
) -> Iterator[None]:
    """The deployed function runs `code` (a deliberately broken build) until the block ends, then
    `original` again."""
    lambda_client.update_function_code(FunctionName=function_name, ZipFile=code)
    try:
        yield
    finally:
        lambda_client.update_function_code(FunctionName=function_name, ZipFile=original)


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


# ------------------------------------------------------------------ randomized fault runs
FAULT_SEED_ENV = "CATALOG_FAULT_SEED"
FAULT_RUNS_ENV = "CATALOG_FAULT_RUNS"
_COVERAGE_TABLES: list[str] = []


@dataclass(frozen=True)
class FaultRuns:
    """Seed and count of a randomized fault suite. Run n draws from its own generator, so the
    first n runs are the same whatever the count: CATALOG_FAULT_RUNS=n+1 replays up to run n."""

    seed: int
    runs: int

    def rng(self, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{index}")

    def replay(self, index: int) -> str:
        return f"replay: {FAULT_SEED_ENV}={self.seed} {FAULT_RUNS_ENV}={index + 1}"

    def replay_of_first(self, problems: Iterable[str], keys: Sequence[str]) -> str:
        """The replay line of the earliest run whose key (`keys[n]`: run n's own key) a problem
        names, or of every run if none is named: for a check made after the last run."""
        text = "\n".join(problems)
        named = (n for n, key in enumerate(keys) if key in text)
        return self.replay(next(named, self.runs - 1))


def fault_runs(default_seed: int, default_runs: int) -> FaultRuns:
    """CATALOG_FAULT_SEED and CATALOG_FAULT_RUNS (positive integers) override the defaults."""
    values = {}
    for name, default in ((FAULT_SEED_ENV, default_seed), (FAULT_RUNS_ENV, default_runs)):
        text = os.environ.get(name, "").strip()
        if not text:
            values[name] = default
        elif text.isdigit() and int(text) > 0:
            values[name] = int(text)
        else:
            pytest.fail(f"{name}={text!r}: expected a positive integer", pytrace=False)
    return FaultRuns(values[FAULT_SEED_ENV], values[FAULT_RUNS_ENV])


@dataclass
class FaultCoverage:
    """Per step of a randomized suite: the share of runs that reach it, that fail there, and
    that compensate it (`undo`: forward step -> its compensation)."""

    pattern: str
    steps: Sequence[str]
    undo: Mapping[str, str]
    runs: int = 0
    reached: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    compensated: Counter[str] = field(default_factory=Counter)
    run_seconds: list[float] = field(default_factory=list)
    check_seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def record(
        self,
        reached: Iterable[str],
        failed: Iterable[str] = (),
        seconds: tuple[float, float] = (0.0, 0.0),
        cpu: float | None = None,
    ) -> None:
        """One run: the steps it reached, those that failed there (for good, or, where nothing
        is compensated, at least once), the wall seconds the run and its invariant check took,
        and the CPU seconds of both (the process's, every thread: `time.process_time`)."""
        done = set(reached)
        self.run_seconds.append(seconds[0])
        self.check_seconds.append(seconds[1])
        if cpu is not None:
            self.cpu_seconds.append(cpu)
        self.runs += 1
        self.reached.update(done)
        self.failed.update(set(failed))
        self.compensated.update(s for s, undo in self.undo.items() if undo in done)

    def share(self, counter: Counter[str], step: str) -> float:
        return counter[step] / self.runs if self.runs else 0.0

    def below(self, minimum: float) -> list[str]:
        """Steps and compensations reached in fewer than `minimum` of the runs."""
        return [s for s in self.steps if self.share(self.reached, s) < minimum]

    def table(self, seed: int) -> str:
        run, check = (
            statistics.median(self.run_seconds or [0]),
            statistics.median(self.check_seconds or [0]),
        )
        cpu = (
            f", CPU {statistics.median(self.cpu_seconds) * 1000:.0f} ms" if self.cpu_seconds else ""
        )
        lines = [
            f"fault coverage of {self.pattern}: {self.runs} runs, {FAULT_SEED_ENV}={seed};"
            f" per run (median) {run:.3f} s + invariants {check:.3f} s{cpu}",
            f"  {'step':<28} {'reached':>8} {'failed':>8} {'compensated':>12}",
        ]
        for step in self.steps:
            compensated = (
                f"{self.share(self.compensated, step):12.0%}" if step in self.undo else f"{'-':>12}"
            )
            lines.append(
                f"  {step:<28} {self.share(self.reached, step):8.0%}"
                f" {self.share(self.failed, step):8.0%} {compensated}"
            )
        return "\n".join(lines)

    def report(self, seed: int) -> str:
        """The table, also shown in pytest's terminal summary."""
        table = self.table(seed)
        _COVERAGE_TABLES.append(table)
        return table


class PhaseFaults:
    """The fault policy of one run (`LocalAws.faults.set_policy`): per deployed function, the
    phases at which its next invocations fail, in order. "before": the handler never ran;
    "after": it ran and its side effects happened, the answer was lost."""

    def __init__(self, pending: Mapping[str, Sequence[str]], error: str) -> None:
        self.pending = {function: list(phases) for function, phases in pending.items()}
        self.error = error
        self.injected: list[tuple[str, str]] = []  # (function, phase), as injected

    def __call__(self, function_name: str, event: Any, phase: str) -> str | None:
        queue = self.pending.get(function_name)
        if queue and queue[0] == phase:
            queue.pop(0)
            self.injected.append((function_name, phase))
            return self.error
        return None


@dataclass
class FaultRun:
    """One run of a randomized suite, as its callbacks see it: they add the steps it reached
    and a note for the failure message (what the run did)."""

    index: int
    rng: random.Random
    faults: PhaseFaults
    reached: set[str] = field(default_factory=set)
    note: str = ""


def run_fault_suite(
    stack_run: Any,
    coverage: FaultCoverage,
    defaults: tuple[int, int],
    plan: Callable[[random.Random, dict[str, str]], PhaseFaults],
    one_run: Callable[[FaultRun], None],
    check: Callable[[FaultRun], list[str]],
) -> FaultRuns:
    """The randomized suite on a deployed stack (a drivers.stack.StackRun on the embedded AWS),
    `defaults` (seed, runs) overridden by CATALOG_FAULT_SEED / CATALOG_FAULT_RUNS. Run after
    run: draw its faults (`plan`, given the stack's function names), run it with them injected
    (`one_run`), then check the invariants (`check`: the problems found) before the next run
    starts. A run reaches the steps its callbacks add and the functions invoked meanwhile; a
    failure names the run, its faults and the line that replays it. At the end the coverage
    table is printed and, from 100 runs on, every step must be reached in 20% of the runs."""
    runs = fault_runs(*defaults)
    aws = stack_run.ctx.aws
    try:
        for index in range(runs.runs):
            rng = runs.rng(index)
            run = FaultRun(index, rng, plan(rng, stack_run.function_names))
            aws.faults.set_policy(run.faults)
            seen, started, cpu = len(aws.invocations), time.perf_counter(), time.process_time()
            try:
                one_run(run)
            finally:
                aws.faults.set_policy(None)
            ran = time.perf_counter()
            problems = check(run)
            invoked = {stack_run.short_name(i.function_name) for i in aws.invocations[seen:]}
            coverage.record(
                run.reached | (invoked & set(coverage.steps)),
                {stack_run.short_name(function) for function, _ in run.faults.injected},
                (ran - started, time.perf_counter() - ran),
                time.process_time() - cpu,
            )
            assert not problems, (
                f"run {index} ({runs.replay(index)}): {run.note} faults {run.faults.injected}\n"
                + "\n".join(problems)
            )
    finally:
        aws.faults.set_policy(None)
    print(coverage.report(runs.seed))
    if runs.runs >= 100:  # a replay of a few runs proves nothing about the spread
        assert coverage.below(0.2) == [], coverage.table(runs.seed)
    return runs


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _COVERAGE_TABLES:
        terminalreporter.section("fault coverage")
        for table in _COVERAGE_TABLES:
            terminalreporter.write_line(table)
