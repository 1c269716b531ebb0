"""`catalog bench`: how fast the catalog is, every number from this one run, as one table + JSON.

- cycle phases per pattern (the wrapper's time against Terraform's own time for the same commands,
  from Terraform's machine-readable log), and the resources the provider itself waited longest on;
- scenario latency per scenario (median and p95 of repeats, a fresh order id each time);
- per function the zip size and the handler's cold import (median of fresh interpreters of the
  runtime's Python on the built zip and layer, laid out as Lambda does) against a bare
  `import boto3` from the same artifacts in the same run; layer sizes;
- review throughput on a folder of many patterns (this catalog's patterns copied N times) against
  checkov per pattern on a sample of the same folder;
- the wall and CPU time of each suite tier (`catalog test --fast`, `catalog test`), run as CI runs
  them, and again without one pattern: the difference is what one pattern adds to the tier.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import botocore
from rich.console import Console
from rich.table import Table

from .commands import BadInput, Parser
from .deploy import clean_up, deploy, run_scenario
from .localaws import LocalAws
from .localaws.import_path import layer_directories
from .packaging import LAYER_ZIP, dependencies_in_layer
from .patterns import REPO_ROOT, Pattern, discover, load

console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())

_BARE_BOTO3 = "import boto3"
# Cold imports run in the Lambda runtime's Python, on the deployed artifacts laid out as Lambda
# lays them out: the zip as /var/task, the layers in /opt (python/, python/lib/.../site-packages).
_RUNTIME_PYTHON = "python3.13"


def cold_imports(pattern: Pattern, repeats: int) -> dict[str, float]:
    """Median seconds to import each handler module and a bare `import boto3`, each sample in a
    fresh interpreter of the runtime's Python on the built zips (the same run, interleaved).

    No bytecode is written (/var/task and /opt are read-only on Lambda), no site-packages of this
    machine are on the path. Empty when that Python is not found (`runtime_python`).
    """
    python = runtime_python()
    if python is None:
        return {}
    build = pattern.build_dir
    layer = build / LAYER_ZIP if dependencies_in_layer(pattern.root) else None
    with tempfile.TemporaryDirectory(prefix="catalog-cold-") as temp:
        opt = Path(temp, "opt")
        if layer is not None:
            _unzip(layer, opt)
        # Last, as the runtime's own boto3 is on Lambda: the (pure Python) boto3 installed here.
        runtime = str(Path(botocore.__file__).resolve().parent.parent)
        paths = {}
        for spec in pattern.functions:
            task = Path(temp, spec.name)
            _unzip(build / spec.zip_name, task)
            paths[spec.name] = [str(task), *map(str, layer_directories(opt)), runtime]
        # boto3 from the artifacts the handlers get it from (the layer, or a function's zip).
        first = pattern.functions[0].name
        statements = {_BARE_BOTO3: (_BARE_BOTO3, paths[first])}
        statements.update(
            {
                spec.name: (f"import {spec.package}.functions.{spec.module}", paths[spec.name])
                for spec in pattern.functions
            }
        )
        samples: dict[str, list[float]] = {key: [] for key in statements}
        for _ in range(repeats):
            for key, (statement, path) in statements.items():
                seconds = _fresh_import(python, statement, path)
                if seconds is None:
                    return {}
                samples[key].append(seconds)
    return {key: statistics.median(values) for key, values in samples.items()}


def runtime_python() -> str | None:
    """The Lambda runtime's Python: CATALOG_RUNTIME_PYTHON, else python3.13 on PATH, if it runs."""
    for candidate in (os.environ.get("CATALOG_RUNTIME_PYTHON"), shutil.which(_RUNTIME_PYTHON)):
        if candidate:
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0 and probe.stdout.strip() == "True":
                return candidate
    return None


def _unzip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as stored:
        stored.extractall(target)


def _fresh_import(python: str, statement: str, path: list[str]) -> float | None:
    code = (
        f"import sys, time\nsys.path[:0] = {path!r}\nt = time.perf_counter()\n{statement}\n"
        "print(time.perf_counter() - t)\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [python, "-S", "-c", code], capture_output=True, text=True, check=False, env=environment
    )
    if out.returncode != 0:
        return None
    return float(out.stdout.strip().splitlines()[-1])


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def bench_pattern(pattern: Pattern, repeats: int, import_repeats: int) -> dict[str, Any]:
    row: dict[str, Any] = {"pattern": pattern.name}
    started = time.perf_counter()
    with LocalAws() as aws:
        deployment = deploy(pattern, aws)
        workspace = deployment.workspace
        assert workspace is not None
        try:
            drift = workspace.plan_has_changes()
            latencies: dict[str, list[float]] = {}
            for name, scenario in pattern.scenarios.items():
                for index in range(repeats):
                    # A fresh order id per repeat, so each run does the full work.
                    result = run_scenario(deployment, _fresh(scenario, index))
                    latencies.setdefault(name, []).append(result.duration_s)
            workspace.destroy()
        except BaseException:
            clean_up(workspace)  # destroys what is left and names it after a signal
            raise
        workspace.cleanup()
        row["drift"] = drift
        row["leftovers"] = {k: v for k, v in aws.inventory().items() if v}
    row["cycle_s"] = round(time.perf_counter() - started, 2)
    row["phases_s"] = {k: round(v, 2) for k, v in workspace.timings.items()}
    row["terraform_s"] = {k: round(v, 2) for k, v in workspace.terraform_timings.items()}
    row["provider_waits_s"] = {
        phase: dict(sorted(waits.items(), key=lambda kv: -kv[1])[:3])
        for phase, resources in workspace.resource_timings.items()
        if (waits := {a: s for a, s in resources.items() if s > 0 and ".data." not in f".{a}"})
    }
    row["scenario_latency_ms"] = {
        name: {
            "median": round(statistics.median(v) * 1000, 1),
            "p95": round(_p95(v) * 1000, 1),
            "runs": len(v),
        }
        for name, v in latencies.items()
    }
    function_zips = {spec.zip_name for spec in pattern.functions}
    imports = cold_imports(pattern, import_repeats)
    row["bare_boto3_import_ms"] = _ms(imports.get(_BARE_BOTO3))
    row["functions"] = {
        spec.name: {
            "zip_bytes": (pattern.build_dir / spec.zip_name).stat().st_size,
            "cold_import_ms": _ms(imports.get(spec.name)),
        }
        for spec in pattern.functions
    }
    row["layers"] = {
        path.name: path.stat().st_size
        for path in sorted(pattern.build_dir.glob("*.zip"))
        if path.name not in function_zips
    }
    return row


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _fresh(scenario: Any, index: int) -> Any:
    if index == 0:
        return scenario
    text = json.dumps(scenario.input)
    for key in ("order_id", "orderId"):
        value = scenario.input.get(key) if isinstance(scenario.input, dict) else None
        if isinstance(value, str):
            text = text.replace(json.dumps(value), json.dumps(f"{value}-r{index}"))
    return replace(scenario, input=json.loads(text))


# ---------------------------------------------------------------- review throughput
def bench_review(copies: int, checkov_sample: int) -> dict[str, Any]:
    """The review on `copies` x this catalog's patterns, and checkov per pattern on a sample."""
    from .review.bench import bench_checkov, bench_tree

    with tempfile.TemporaryDirectory(prefix="catalog-bench-review-") as tmp:
        tree = Path(tmp)
        ignore = shutil.ignore_patterns("build", ".terraform", "__pycache__", "*.tfstate*")
        for index in range(copies):
            for pattern in discover():
                shutil.copytree(pattern.root, tree / f"{pattern.name}-{index:03d}", ignore=ignore)
        review = bench_tree(tree, jobs=os.cpu_count() or 1)
        checkov = bench_checkov(tree, checkov_sample)
    review_per_pattern = review["seconds"] / review["patterns"] if review["patterns"] else None
    checkov_mean = checkov.get("checkov_mean_s")
    return {
        "tree": {k: v for k, v in review.items() if k != "path"},
        "review_s_per_pattern": round(review_per_pattern, 4) if review_per_pattern else None,
        "checkov": checkov,
        "checkov_over_review_per_pattern": (
            round(checkov_mean / review_per_pattern, 1)
            if checkov_mean and review_per_pattern
            else None
        ),
    }


# ---------------------------------------------------------------- suite tiers
def bench_suite(fast_only: bool, dropped: Pattern) -> dict[str, Any]:
    """Wall and CPU time of each tier through the README's command (lint left to its own step),
    then the same tier without `dropped` (its own tests and every test parametrized by it): the
    difference is what one pattern adds to the tier."""
    tiers = {"fast": ["--fast"]} if fast_only else {"fast": ["--fast"], "full": []}
    without = ["--ignore", str(dropped.root), "-k", f"not {dropped.name}"]
    results = {}
    for tier, args in tiers.items():
        whole = _timed_suite(args)
        less = _timed_suite([*args, *without])
        results[tier] = {
            **whole,
            "without": {"pattern": dropped.name, **less},
            "one_pattern_s": round(whole["wall_s"] - less["wall_s"], 1),
        }
    return results


def _timed_suite(args: list[str]) -> dict[str, Any]:
    """One run of `catalog test --no-lint ARGS`: wall seconds, CPU seconds of it and its
    children, exit code, pytest's summary line."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    out = subprocess.run(
        [str(REPO_ROOT / "shared" / "bin" / "catalog"), "test", "--no-lint", "-q", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(_children_cpu() - cpu_before, 1),
        "exit": out.returncode,
        "summary": lines[-1] if lines else out.stderr.strip()[-200:],
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- report
def _ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference or math.isnan(value) or math.isnan(reference):
        return ""
    return f"{value / reference:.2f}"


def print_table(report: dict[str, Any]) -> None:
    table = Table(title=f"catalog bench ({report['machine']['load_before']} load before)")
    for column in ("section", "what", "measured", "against", "ratio"):
        table.add_column(column)
    for row in report["patterns"]:
        name = row["pattern"]
        table.add_row("cycle", f"{name}: whole cycle", f"{row['cycle_s']:.1f} s", "", "")
        for phase, seconds in row["phases_s"].items():
            own = row["terraform_s"].get(phase)
            table.add_row(
                "cycle",
                f"{name}: {phase}",
                f"{seconds:.2f} s",
                "" if own is None else f"terraform {own:.2f} s",
                _ratio(seconds, own),
            )
        for phase, waits in row["provider_waits_s"].items():
            shown = ", ".join(
                f"{address.split('.', 1)[-1]} {s:.0f}s" for address, s in waits.items()
            )
            table.add_row("provider waits", f"{name}: {phase}", shown, "", "")
        for scenario, latency in row["scenario_latency_ms"].items():
            table.add_row(
                "scenario",
                f"{name}: {scenario}",
                f"median {latency['median']:.0f} ms, p95 {latency['p95']:.0f} ms",
                f"{latency['runs']} runs",
                "",
            )
        bare = row["bare_boto3_import_ms"]
        for function, info in row["functions"].items():
            cold = info["cold_import_ms"]
            table.add_row(
                "function",
                f"{name}: {function}",
                f"zip {info['zip_bytes'] / 1e6:.3f} MB, "
                + (
                    f"import {cold:.0f} ms"
                    if cold is not None
                    else f"import n/a (no {_RUNTIME_PYTHON})"
                ),
                "" if bare is None else f"import boto3 {bare:.0f} ms",
                "" if cold is None or bare is None else _ratio(cold, bare),
            )
        for layer, size in row["layers"].items():
            table.add_row("layer", f"{name}: {layer}", f"{size / 1e6:.2f} MB", "", "")
    review = report.get("review")
    if review:
        tree = review["tree"]
        table.add_row(
            "review",
            f"{tree['patterns']} patterns, {tree['jobs']} jobs",
            f"{tree['seconds']} s = {tree['patterns_per_s']} patterns/s",
            f"checkov {review['checkov'].get('checkov_mean_s', '?')} s/pattern",
            str(review.get("checkov_over_review_per_pattern") or ""),
        )
    for tier, result in report.get("suite", {}).items():
        command = f"catalog test{' --fast' if tier == 'fast' else ''}"
        less = result["without"]
        for what, run in ((command, result), (f"{command} without {less['pattern']}", less)):
            table.add_row(
                "suite",
                what,
                f"{run['wall_s']:.0f} s wall, {run['cpu_s']:.0f} s CPU (exit {run['exit']})",
                run["summary"],
                "",
            )
        table.add_row(
            "suite",
            f"{command}: one pattern ({less['pattern']})",
            f"{result['one_pattern_s']:.0f} s wall",
            f"whole tier {result['wall_s']:.0f} s",
            _ratio(result["one_pattern_s"], result["wall_s"]),
        )
    # A log (not a terminal) gets the whole table, unwrapped.
    (console if console.is_terminal else Console(width=200, highlight=False)).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="catalog bench", description=__doc__)
    parser.add_argument(
        "pattern", nargs="*", help="only these patterns, by name or path (default: all)"
    )
    parser.add_argument(
        "--repeats", type=_positive, default=20, help="runs per scenario (median, p95)"
    )
    parser.add_argument(
        "--import-repeats", type=_positive, default=5, help="fresh interpreters per import (median)"
    )
    parser.add_argument(
        "--review-copies",
        type=_positive,
        default=20,
        help="copies of the catalog's patterns reviewed",
    )
    parser.add_argument(
        "--checkov-sample", type=_positive, default=3, help="patterns checkov scans one by one"
    )
    parser.add_argument(
        "--suite", choices=("all", "fast", "none"), default="all", help="suite tiers to time"
    )
    parser.add_argument(
        "--soak",
        type=_positive,
        metavar="N",
        help="instead: N back-to-back deploy-destroy cycles of each pattern on one embedded AWS "
        "(leftovers, drift and memory growth per cycle)",
    )
    parser.add_argument(
        "--suite-without",
        metavar="PATTERN",
        help="the pattern left out to measure what one pattern adds to a tier (default: the last)",
    )
    parser.add_argument("--out", type=Path, help="JSON report (default: build/bench.json)")
    args = parser.parse_args(argv)
    patterns = [load(name) for name in args.pattern] or discover()
    # checked before anything runs: an unknown name fails at once, not after the cycles
    dropped = load(args.suite_without) if args.suite_without else discover()[-1]
    if args.soak:
        from .soak import print_soak, soak_pattern

        rows = [soak_pattern(pattern, args.soak, _progress) for pattern in patterns]
        print_soak(rows, console)
        soak: dict[str, Any] = {"machine": _machine(), "cycles": args.soak, "patterns": rows}
        return _write(soak, args.out or REPO_ROOT / "build" / "soak.json")
    report: dict[str, Any] = {"machine": _machine(), "repeats": args.repeats}
    rows = []
    for pattern in patterns:
        _progress(f"cycling {pattern.name}")
        rows.append(bench_pattern(pattern, args.repeats, args.import_repeats))
    report["patterns"] = rows
    _progress(f"reviewing {args.review_copies} copies of the catalog's patterns")
    report["review"] = bench_review(args.review_copies, args.checkov_sample)
    if args.suite != "none":
        _progress("running the suite tiers")
        report["suite"] = bench_suite(args.suite == "fast", dropped)
    report["machine"]["load_after"] = _load()
    print_table(report)
    return _write(report, args.out or REPO_ROOT / "build" / "bench.json")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _progress(message: str) -> None:
    console.print(f"[dim]· {message}[/dim]")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "runtime_python": runtime_python(),
        "cpus": os.cpu_count() or 0,
        "load_before": _load(),
    }


def _write(report: dict[str, Any], out: Path) -> int:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
    except OSError as exc:
        raise BadInput(f"cannot write the report to {out}: {exc.strerror}") from exc
    console.print(f"written: {out}")
    return 0
