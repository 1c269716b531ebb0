"""Benchmark of `catalog review` (not a test): `python -m catalog.review.bench --out FILE.json`.

Measures (1) this catalog's `patterns/` end to end in a fresh interpreter, cfn-lint cache cold and
warm; (2) a tree of N pattern folders (synthetic: the review fixtures copied N times, or
`--public PATH`, a checkout of the public catalogue) in patterns per second; (3) checkov per
pattern on a sample of Terraform patterns, against the review of the same patterns.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import fixtures
from .rules import checkov as checkov_rule
from .runner import review

REPO = Path(__file__).resolve().parents[3]
# Issue 11: the public catalogue (about 1,000 folders) in <= 17 s on 2 cores.
TARGET_PATTERNS_PER_S = 60


@contextmanager
def cache(path: Path | None) -> Iterator[None]:
    previous = os.environ.get("CATALOG_REVIEW_CACHE")
    os.environ["CATALOG_REVIEW_CACHE"] = str(path) if path else ""
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CATALOG_REVIEW_CACHE", None)
        else:
            os.environ["CATALOG_REVIEW_CACHE"] = previous


def synthetic_tree(target: Path, count: int) -> Path:
    """`count` pattern folders: the bases, the seed and every defect case, round robin."""
    variants: list[dict[str, Any]] = [
        {"base": p.name} for p in sorted((fixtures.FIXTURES / "bases").iterdir())
    ]
    variants += [fixtures.load_case(name) for name in fixtures.cases()]
    seed = fixtures.FIXTURES / "seed" / "lambda-durable-function-chaining-cdk"
    target.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if i % (len(variants) + 1) == len(variants):
            shutil.copytree(seed, target / f"seed-{i:04d}")
            continue
        spec = dict(variants[i % (len(variants) + 1)])
        spec.pop("rename", None)
        fixtures.materialise(spec, target, name=f"{spec['base']}-{i:04d}", nest_catalog=False)
    return target


def cli_run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of one `catalog review` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "catalog.review.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "shared"), env.get("PYTHONPATH")]))
    return env


def bench_catalog(runs: int) -> dict[str, Any]:
    """`catalog review patterns` as a user runs it: a new interpreter each time."""
    env = _cli_env()
    args = ["patterns", "--format", "json", "--no-checkov"]
    with tempfile.TemporaryDirectory() as tmp:
        env["CATALOG_REVIEW_CACHE"] = tmp
        cold_wall, cold_cpu, _ = cli_run(args, REPO, env)
        warm = sorted(cli_run(args, REPO, env)[:2] for _ in range(runs))
        with cache(Path(tmp)):
            review([REPO / "patterns"])
            start = time.perf_counter()
            report = review([REPO / "patterns"])
            in_process = time.perf_counter() - start
    median = warm[len(warm) // 2]
    return {
        "patterns": len(report.patterns),
        "cli_cold_cache_s": round(cold_wall, 3),
        "cli_cold_cache_cpu_s": round(cold_cpu, 3),
        "cli_warm_cache_s_median": round(median[0], 3),
        "cli_warm_cache_cpu_s_median": round(sorted(c for _, c in warm)[len(warm) // 2], 3),
        "in_process_warm_s": round(in_process, 3),
        "target_s": 1.0,
    }


def bench_tree(path: Path, jobs: int) -> dict[str, Any]:
    """`catalog review PATH` cold: a fresh interpreter and an empty review cache (cfn-lint on).
    CPU time (the CLI, its pool workers and its cfn-lint worker) is reported next to the wall
    time because the wall time depends on what else the machine runs."""
    env = _cli_env()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        env["CATALOG_REVIEW_CACHE"] = tmp
        seconds, cpu, out = cli_run(
            [str(path), "--format", "json", "--no-checkov", "--jobs", str(jobs)], path, env
        )
    summary = json.loads(out)["summary"] if out.strip() else {}
    count = summary.get("patterns", 0)
    return {
        "path": str(path),
        "patterns": count,
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "patterns_per_s": round(count / seconds, 1) if seconds else None,
        "cpu_s": round(cpu, 2),
        "patterns_per_cpu_s_times_jobs": round(count / cpu * jobs, 1) if cpu else None,
        "findings": summary.get("findings"),
        "not_analysed": len(summary.get("not_analysed", [])),
        "frameworks": summary.get("frameworks"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "target_patterns_per_s": TARGET_PATTERNS_PER_S,
    }


def bench_checkov(path: Path, sample: int) -> dict[str, Any]:
    """checkov per pattern against the review of the same pattern, on Terraform patterns."""
    if checkov_rule.executable() is None:
        return {"skipped": "checkov not installed"}
    dirs = [d for d in sorted(path.iterdir()) if d.is_dir() and any(d.rglob("*.tf"))][:sample]
    rows = []
    for d in dirs:
        start = time.perf_counter()
        review([d], cfn_lint=False, cwd=d)
        review_s = time.perf_counter() - start
        start = time.perf_counter()
        report = review([d], cfn_lint=False, checkov=True, cwd=d)
        with_checkov_s = time.perf_counter() - start
        rows.append(
            {
                "pattern": d.name,
                "review_s": round(review_s, 3),
                "checkov_s": round(with_checkov_s - review_s, 3),
                "sec_findings": sum(1 for f in report.findings if f.rule == "SEC001"),
            }
        )
    if not rows:
        return {"skipped": "no Terraform pattern in the sample"}
    review_mean = sum(r["review_s"] for r in rows) / len(rows)
    checkov_mean = sum(r["checkov_s"] for r in rows) / len(rows)
    return {
        "sample": rows,
        "review_mean_s": round(review_mean, 3),
        "checkov_mean_s": round(checkov_mean, 3),
        "checkov_over_review": round(checkov_mean / review_mean, 1) if review_mean else None,
    }


def table(results: dict[str, Any]) -> str:
    rows = [("measure", "value", "target")]
    cat = results["catalog"]
    rows += [
        (
            f"this catalog ({cat['patterns']} patterns), CLI, caches cold",
            f"{cat['cli_cold_cache_s']} s (CPU {cat['cli_cold_cache_cpu_s']} s)",
            "",
        ),
        (
            "this catalog, CLI, caches warm (median)",
            f"{cat['cli_warm_cache_s_median']} s (CPU {cat['cli_warm_cache_cpu_s_median']} s)",
            "< 1 s",
        ),
        ("this catalog, in process, caches warm", f"{cat['in_process_warm_s']} s", ""),
    ]
    for key in ("synthetic", "public"):
        tree = results.get(key)
        if tree:
            rows.append(
                (
                    f"{key}: {tree['patterns']} patterns, {tree['jobs']} jobs, fresh CLI, cache cold",
                    f"{tree['seconds']} s = {tree['patterns_per_s']} patterns/s (CPU {tree['cpu_s']} s,"
                    f" load {tree['load_average_before'][0]})",
                    f">= {TARGET_PATTERNS_PER_S} patterns/s",
                )
            )
    ck = results.get("checkov", {})
    if "checkov_mean_s" in ck:
        rows.append(
            (
                f"checkov per pattern vs review (sample {len(ck['sample'])})",
                f"{ck['checkov_mean_s']} s vs {ck['review_mean_s']} s = x{ck['checkov_over_review']}",
                "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m catalog.review.bench", description=__doc__)
    p.add_argument("--out", type=Path, required=True, help="JSON results file")
    p.add_argument(
        "--synthetic", type=int, default=1000, metavar="N", help="synthetic folders (0: skip)"
    )
    p.add_argument(
        "--public", type=Path, help="a checkout of the public serverless pattern catalogue"
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--checkov-sample", type=int, default=3, metavar="K")
    p.add_argument("--runs", type=int, default=5, help="warm runs of the catalog measure")
    args = p.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
    }
    results["catalog"] = bench_catalog(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        tree = None
        if args.synthetic:
            tree = synthetic_tree(Path(tmp) / "synthetic", args.synthetic)
            results["synthetic"] = bench_tree(tree, args.jobs)
        if args.public:
            results["public"] = bench_tree(args.public.resolve(), args.jobs)
        sample_from = args.public.resolve() if args.public else tree
        if sample_from is not None and args.checkov_sample:
            results["checkov"] = bench_checkov(sample_from, args.checkov_sample)
    results["machine"]["load_average_after"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
