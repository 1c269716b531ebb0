"""`review()`: find the patterns, run every check on each (in parallel for big trees), then the
cross-pattern work (cfn-lint worker, checkov). Nothing inside a check can crash the review."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import hclcache, pathcase
from .cfnlint_client import CfnJob, CfnLint
from .context import Listing, PatternContext, display_path
from .discover import changed_files, detect, flavour, listings, pattern_dirs, select_changed
from .model import RULES, Finding, Notice, PatternSummary, Report
from .rules import CHECKS, load_all
from .rules.checkov import Checkov, Target
from .rules.state_machine import Collected

PARALLEL_FROM = 8  # patterns; below this a process pool costs more than it saves


@dataclass
class PatternResult:
    name: str
    path: str
    frameworks: list[str]
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    jobs: list[CfnJob] = field(default_factory=list)


def review_pattern(root: Path, listing: Listing, in_git: bool, cwd: Path) -> PatternResult:
    """Every check on one pattern folder; a failing check becomes a notice, never an exception."""
    load_all()
    pathcase.clear()  # folder listings are cached per pattern, never across reviews
    ctx = PatternContext(root, listing, cwd=cwd, in_git=in_git, flavour=flavour(root))
    frameworks: list[str] = []
    try:
        frameworks = detect(ctx).names()
    except Exception as exc:  # a pattern must never stop the review
        ctx.note(".", f"could not detect its frameworks: {type(exc).__name__}: {exc}")
    if not ctx.files and not ctx.junk_dirs and not ctx.notices:
        ctx.report("READ002", ".", None, f"{ctx.name}/ is empty: nothing to review")
        return PatternResult(ctx.name, ctx.display("."), [], ctx.findings, ctx.notices)
    if not frameworks and ctx.files:
        ctx.note(
            ".",
            "no IaC found (SAM/CloudFormation, CDK, Terraform, Pulumi, Serverless): "
            "IaC rules not applied",
        )
    for chk in CHECKS:
        try:
            chk.fn(ctx)
        except Exception as exc:  # a pattern must never stop the review
            ctx.notices.append(
                Notice(
                    ctx.name,
                    ctx.display("."),
                    f"could not analyse {ctx.name} with "
                    f"{chk.name} ({', '.join(chk.rules)}): {type(exc).__name__}: {exc}",
                )
            )
    collected = ctx.cache.get("cfnlint")
    jobs = collected.jobs if isinstance(collected, Collected) else []
    return PatternResult(ctx.name, ctx.display("."), frameworks, ctx.findings, ctx.notices, jobs)


def _review_one(args: tuple[Path, Listing, bool, Path]) -> PatternResult:
    return review_pattern(*args)


def _warm_up() -> None:
    """Import and build what every worker needs once, before the pool forks."""
    load_all()
    import statelint.linter  # noqa: F401

    hclcache.parser()


def _terraform_roots(root: Path, listing: Listing) -> list[Path]:
    folders = {str(PurePosixPath(f).parent) for f in listing.files if f.endswith(".tf")}
    return [root / f for f in sorted(folders) if "modules" not in PurePosixPath(f).parts]


def _touches_patterns(path: Path, tooling: list[Path], touched: set[Path]) -> bool:
    """A changed file that still exists inside a pattern folder of `path`: in this catalog's
    patterns/ any subfolder (`_draft/` included); elsewhere not in a tooling, hidden or `_`
    folder (the public catalogue's `scripts/`, `.github/`, `_pattern-model/`)."""
    base = path.resolve()
    nested = base / "patterns"
    base = nested if base.name != "patterns" and nested.is_dir() else base
    catalog = base.name == "patterns"
    skip = [t.resolve() for t in tooling]
    for t in touched:
        if not (t.is_relative_to(base) and t.is_file()) or len(t.relative_to(base).parts) < 2:
            continue
        top = t.relative_to(base).parts[0]
        if catalog or not (top.startswith((".", "_")) or any(t.is_relative_to(s) for s in skip)):
            return True
    return False


def _nothing(path: Path, cwd: Path, why: str) -> Finding:
    spec = RULES["READ002"]
    return Finding(
        pattern=path.name,
        path=display_path(path, cwd),
        line=None,
        rule="READ002",
        category=spec.category,
        severity=spec.severity,
        message=f"{why}: an empty review proves nothing",
        hint="give a pattern folder, a folder of patterns or a repository holding patterns/",
    )


def review(
    paths: Sequence[str | Path],
    changed_since: str | None = None,
    checkov: bool = False,
    *,
    cfn_lint: bool = True,
    jobs: int | None = None,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Review pattern folders (or folders of patterns). Raises UsageError for bad arguments only.

    `progress(done, total)` is called as each pattern folder is finished.
    """
    started = time.perf_counter()
    cwd = (cwd or Path.cwd()).resolve()
    work: list[tuple[Path, Listing, bool, Path]] = []
    seen: set[Path] = set()
    empty: list[Finding] = []
    skipped: list[Notice] = []
    touched = changed_files(changed_since, cwd)[1] if changed_since else None
    for raw in paths or [cwd]:
        path = Path(raw)
        path = (cwd / path if not path.is_absolute() else path).resolve()
        found_dirs, tooling = pattern_dirs(path)
        dirs = [d for d in found_dirs if d.resolve() not in seen]
        if touched is not None:
            selected = select_changed(dirs, touched)
            if not selected and _touches_patterns(path, tooling, touched):
                empty.append(
                    _nothing(
                        path,
                        cwd,
                        "files of patterns changed, but no pattern folder could be reviewed",
                    )
                )
            dirs = selected
            tooling = select_changed(tooling, touched)
        elif not found_dirs and not seen:
            empty.append(_nothing(path, cwd, "no pattern folder found here"))
        skipped += [
            Notice(
                t.name, display_path(t, cwd), "not a pattern (no metadata, README or IaC): skipped"
            )
            for t in tooling
        ]
        seen.update(d.resolve() for d in dirs)
        found, in_git = listings(path, dirs)
        work += [(d, found[d], in_git, cwd) for d in dirs]
    targets = [Target(d.name, t) for d, listing, _, _ in work for t in _terraform_roots(d, listing)]
    lint = CfnLint() if cfn_lint else None
    workers = jobs or os.cpu_count() or 1
    parallel = len(work) >= PARALLEL_FROM and workers > 1
    # checkov runs in threads: start them after the process pool has forked, never before.
    checkov_runner = Checkov(targets, cwd) if checkov and not parallel else None

    def feed(result: PatternResult) -> None:
        if lint is not None:
            lint.feed(result.jobs)  # linting overlaps the remaining pattern work

    try:
        if parallel:
            if lint is not None:
                lint.start()  # its import overlaps the pattern work
            _warm_up()
            context = multiprocessing.get_context("fork") if os.name == "posix" else None
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                chunk = max(1, min(8, len(work) // (workers * 16)))  # small chunks: even finish
                results = _counted(
                    pool.map(_review_one, work, chunksize=chunk), len(work), progress, feed
                )
            if checkov:
                checkov_runner = Checkov(targets, cwd)
        else:
            results = _counted((review_pattern(*item) for item in work), len(work), progress, feed)
        report = Report(checkov=checkov, findings=list(empty), notices=list(skipped))
        for result in results:
            report.patterns.append(PatternSummary(result.name, result.path, result.frameworks))
            report.findings += result.findings
            report.notices += result.notices
        if lint is not None:
            found_sfn, notes = lint.finish()
            report.findings += found_sfn
            report.notices += notes
        if checkov_runner is not None:
            found_ck, notes = checkov_runner.results()
            report.findings += found_ck
            report.notices += notes
    finally:
        if lint is not None:
            lint.stop()
    report.findings.sort(key=lambda f: (f.pattern, f.path, f.line or 0, f.rule, f.message))
    report.notices.sort()
    report.duration_s = time.perf_counter() - started
    return report


def _counted(
    results: Iterable[PatternResult],
    total: int,
    progress: Callable[[int, int], None] | None,
    each: Callable[[PatternResult], None],
) -> list[PatternResult]:
    done: list[PatternResult] = []
    for result in results:
        done.append(result)
        each(result)
        if progress is not None:
            progress(len(done), total)
    return done
