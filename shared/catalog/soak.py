"""`catalog bench --soak N`: N back-to-back deploy-destroy cycles of a pattern on ONE embedded AWS.

Each cycle applies, checks the plan is empty (drift), runs every scenario, destroys, then takes the
inventory of every service (leftovers), counts the catalog's temporary folders and reads this
process's resident memory. What a long-lived emulator or runner accumulates shows up here first.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .deploy import Deployment, build, clean_up, expectation_problems, run_scenario
from .engines.terraform import TerraformWorkspace
from .localaws import LocalAws
from .patterns import Pattern

Echo = Callable[[str], None]


def rss_mb() -> float:
    """Resident memory of this process now (not the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def private_tempdir() -> Iterator[Path]:
    """A temporary root of this soak's own (the machine's /tmp is shared with other runs), so
    what the soak leaves there can be counted; removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="catalog-soak-"))
    saved = tempfile.tempdir
    tempfile.tempdir = str(root)
    try:
        yield root
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(root, ignore_errors=True)


def soak_pattern(pattern: Pattern, cycles: int, echo: Echo) -> dict[str, Any]:
    """One workspace, initialised once, applied and destroyed `cycles` times on one LocalAws."""
    with private_tempdir() as temp_root:
        report = _soak(pattern, cycles, echo, temp_root)
        report["temp_entries_left"] = sum(1 for _ in temp_root.iterdir())
    return report


def _soak(pattern: Pattern, cycles: int, echo: Echo, temp_root: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with LocalAws() as aws:
        build(pattern)
        workspace = TerraformWorkspace(pattern, aws=aws).prepare()
        try:
            echo(f"{pattern.name}: terraform init")
            workspace.init()
            for index in range(1, cycles + 1):
                started = time.perf_counter()
                echo(f"{pattern.name}: cycle {index}/{cycles}")
                workspace.apply()
                drift = workspace.plan_has_changes()
                outputs = workspace.outputs()
                deployment = Deployment(pattern, workspace, outputs, aws)
                unexpected = []
                for scenario in pattern.scenarios.values():
                    result = run_scenario(deployment, scenario)
                    if expectation_problems(scenario, result):
                        unexpected.append(scenario.name)
                workspace.destroy()
                leftovers = {k: v for k, v in aws.inventory().items() if v}
                row = {
                    "cycle": index,
                    "seconds": round(time.perf_counter() - started, 1),
                    "drift": drift,
                    "unexpected_scenarios": unexpected,
                    "leftovers": leftovers,
                    "rss_mb": round(rss_mb(), 1),
                    # the workspace and the emulator's code folder: constant when nothing leaks
                    "temp_entries": sum(1 for _ in temp_root.rglob("*")),
                }
                rows.append(row)
                echo(
                    f"{pattern.name}: cycle {index} took {row['seconds']} s, drift {drift}, "
                    f"unexpected {unexpected or 'none'}, leftovers {leftovers or 'none'}, "
                    f"RSS {row['rss_mb']} MB"
                )
        finally:
            clean_up(workspace)
    first = rows[0]["rss_mb"] if rows else 0.0
    for row in rows:
        row["rss_growth_mb"] = round(row["rss_mb"] - first, 1)
    return {
        "pattern": pattern.name,
        "cycles": rows,
        "leftover_cycles": sum(1 for r in rows if r["leftovers"]),
        "drift_cycles": sum(1 for r in rows if r["drift"]),
        "unexpected_cycles": sum(1 for r in rows if r["unexpected_scenarios"]),
    }


def print_soak(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    table = Table(title="Soak: deploy-destroy cycles on one embedded AWS")
    for column in (
        "pattern",
        "cycle",
        "s",
        "drift",
        "unexpected",
        "leftovers",
        "RSS MB",
        "RSS growth MB",
        "temp files",
    ):
        table.add_column(column)
    for row in rows:
        for cycle in row["cycles"]:
            table.add_row(
                row["pattern"],
                str(cycle["cycle"]),
                f"{cycle['seconds']:.1f}",
                "yes" if cycle["drift"] else "no",
                ", ".join(cycle["unexpected_scenarios"]) or "-",
                str(sum(len(v) for v in cycle["leftovers"].values())),
                f"{cycle['rss_mb']:.0f}",
                f"{cycle['rss_growth_mb']:+.0f}",
                str(cycle["temp_entries"]),
            )
    console.print(table)
    for row in rows:
        console.print(
            f"{row['pattern']}: {len(row['cycles'])} cycles, {row['leftover_cycles']} with "
            f"leftovers, {row['drift_cycles']} with drift, {row['unexpected_cycles']} with an "
            f"unexpected scenario outcome, {row['temp_entries_left']} temporary entries left"
        )
