"""`catalog bench`: per pattern, the time of each cycle phase, per scenario the execution latency
(median of repeats), per function the zip size and the handler's cold import time (median of fresh
interpreters). Prints a table and writes JSON. Every number comes from this one run.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .commands import BadInput, Parser
from .deploy import clean_up, deploy, run_scenario
from .localaws import LocalAws
from .patterns import REPO_ROOT, Pattern, discover, load

console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())


def cold_import_seconds(pattern: Pattern, module: str, repeats: int) -> float:
    """Median wall time to import a handler module in a fresh interpreter (what a cold start pays)."""
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(pattern.root / 'src')!r})\n"
        "t = time.perf_counter()\n"
        f"import {module}\n"
        "print(time.perf_counter() - t)\n"
    )
    samples = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            return float("nan")  # a module that reads its deployed environment at import
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def bench_pattern(pattern: Pattern, repeats: int) -> dict[str, Any]:
    row: dict[str, Any] = {"pattern": pattern.name}
    with LocalAws() as aws:
        deployment = deploy(pattern, aws)
        workspace = deployment.workspace
        try:
            workspace.plan_has_changes()
            latencies: dict[str, list[float]] = {}
            for name, scenario in pattern.scenarios.items():
                for _ in range(repeats):
                    # A fresh order id per repeat, so each run does the full work.
                    result = run_scenario(
                        deployment, _fresh(scenario, len(latencies.get(name, [])))
                    )
                    latencies.setdefault(name, []).append(result.duration_s)
            started = time.perf_counter()
            workspace.destroy()
            workspace.timings["destroy"] = time.perf_counter() - started
        except BaseException:
            clean_up(workspace)  # destroys what is left and names it after a signal
            raise
        workspace.cleanup()
        row["phases_s"] = {k: round(v, 2) for k, v in workspace.timings.items()}
        row["scenario_latency_ms"] = {
            k: round(statistics.median(v) * 1000, 1) for k, v in latencies.items()
        }
        row["leftovers"] = {k: v for k, v in aws.inventory().items() if v}
    row["functions"] = {
        spec.name: {
            "zip_bytes": (pattern.build_dir / spec.zip_name).stat().st_size,
            "cold_import_ms": round(
                cold_import_seconds(pattern, f"{spec.package}.functions.{spec.module}", repeats)
                * 1000,
                1,
            ),
        }
        for spec in pattern.functions
    }
    return row


def _fresh(scenario: Any, index: int) -> Any:
    if index == 0:
        return scenario
    from dataclasses import replace

    text = json.dumps(scenario.input)
    for key in ("order_id", "orderId"):
        value = scenario.input.get(key) if isinstance(scenario.input, dict) else None
        if isinstance(value, str):
            text = text.replace(json.dumps(value), json.dumps(f"{value}-r{index}"))
    return replace(scenario, input=json.loads(text))


def print_tables(rows: list[dict[str, Any]]) -> None:
    phases = Table(title="Cycle phases (s)")
    names = sorted({p for row in rows for p in row["phases_s"]})
    for column in ["pattern", *names]:
        phases.add_column(column)
    for row in rows:
        phases.add_row(row["pattern"], *[f"{row['phases_s'].get(p, 0):.1f}" for p in names])
    console.print(phases)
    scenarios = Table(title="Scenario latency, median (ms)")
    for column in ("pattern", "scenario", "ms"):
        scenarios.add_column(column)
    for row in rows:
        for name, ms in row["scenario_latency_ms"].items():
            scenarios.add_row(row["pattern"], name, f"{ms:.0f}")
    console.print(scenarios)
    functions = Table(title="Functions")
    for column in ("pattern", "function", "zip bytes", "cold import, median (ms)"):
        functions.add_column(column)
    for row in rows:
        for name, info in row["functions"].items():
            functions.add_row(
                row["pattern"], name, f"{info['zip_bytes']:,}", f"{info['cold_import_ms']:.0f}"
            )
    console.print(functions)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="catalog bench", description=__doc__)
    parser.add_argument(
        "pattern", nargs="*", help="only these patterns, by name or path (default: all)"
    )
    parser.add_argument(
        "--repeats", type=_positive, default=5, help="runs per scenario and per import (median)"
    )
    parser.add_argument(
        "--soak",
        type=_positive,
        metavar="N",
        help="instead: N back-to-back deploy-destroy cycles of each pattern on one embedded AWS "
        "(leftovers, drift and memory growth per cycle)",
    )
    parser.add_argument("--out", type=Path, help="JSON report (default: build/bench.json)")
    args = parser.parse_args(argv)
    patterns = [load(name) for name in args.pattern] or discover()
    if args.soak:
        from .soak import print_soak, soak_pattern

        rows = [soak_pattern(pattern, args.soak, _progress) for pattern in patterns]
        print_soak(rows, console)
        report: dict[str, Any] = {"machine": _machine(), "cycles": args.soak, "patterns": rows}
        return _write(report, args.out or REPO_ROOT / "build" / "soak.json")
    rows = []
    for pattern in patterns:
        _progress(f"benchmarking {pattern.name}")
        rows.append(bench_pattern(pattern, args.repeats))
    print_tables(rows)
    report = {"machine": _machine(), "repeats": args.repeats, "patterns": rows}
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


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": _cpus()}


def _write(report: dict[str, Any], out: Path) -> int:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
    except OSError as exc:
        raise BadInput(f"cannot write the report to {out}: {exc.strerror}") from exc
    console.print(f"written: {out}")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
