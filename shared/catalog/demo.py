"""`catalog demo`: every pattern's cycle at once, each in a process with its own embedded AWS.

moto's state is process-wide, so one embedded AWS per process: the demo starts one child process per
pattern (`python -m catalog.demo --child FD NAME`). A child runs the same `deploy.cycle` as
`catalog cycle` and reports as JSON lines on a pipe of its own (FD; the handlers' own output cannot
mix in): one `step` event when a step starts (the cycle's own progress messages), then a `report`
event with the pattern's rendered report. The parent shows one live line per pattern and step, then
prints the reports in the catalog's order.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from . import interrupts

CHILD_FLAG = "--child"
LEFT_BEHIND = "catalog: error: left behind: "
PROGRESS = re.compile(r"^terraform [a-z]+: \d+")


@dataclass
class Step:
    message: str
    started: float
    seconds: float | None = None  # None while it runs
    progress: str = ""  # the runner's latest progress line while it runs (resources done of total)


@dataclass
class PatternRun:
    name: str
    process: subprocess.Popen[str]
    events: Any  # the read end of the child's event pipe
    steps: list[Step] = field(default_factory=list)
    report: str = ""
    notes: list[str] = field(default_factory=list)
    stderr: str = ""
    returncode: int | None = None
    started: float = field(default_factory=time.perf_counter)
    last_event: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def handle(self, event: dict[str, Any], now: float) -> list[Step]:
        """Apply one child event; returns the lines it finished.

        A `step` runs until the next step (or the report). A `result` (a scenario's outcome)
        reports something that ran since the previous event: that is its time, and the step it
        belongs to (`scenarios`) stays open.
        """
        finished: list[Step] = []
        kind = event["event"]
        if kind in ("step", "report"):
            for step in self.steps:
                if step.seconds is None:
                    step.seconds = now - step.started
                    finished.append(step)
        if kind == "step":
            self.steps.append(Step(event["message"], now))
        elif kind == "result":
            result = Step(event["message"], self.last_event, now - self.last_event)
            self.steps.append(result)
            finished.append(result)
        elif kind == "report":
            self.report = event["text"]
        elif kind == "note":
            self.notes.append(event["message"])
        elif kind == "progress":
            for step in self.steps:
                if step.seconds is None:
                    step.progress = event["message"]
            return finished
        self.last_event = now
        return finished


def run_demo(pattern_dirs: list[str], console: Console) -> int:
    """Cycle the patterns (folders) concurrently; returns 0 when every cycle passed."""
    env = dict(os.environ)
    if console.is_terminal:
        env["FORCE_COLOR"] = "1"
    env["COLUMNS"] = str(console.width)
    runs = [_start(folder, env) for folder in pattern_dirs]
    lock = threading.Lock()
    started = time.perf_counter()

    def printer(run: PatternRun, step: Step) -> None:
        if not console.is_terminal:  # a log: one line per finished step
            console.print(f"{run.name:<32} {step.message:<56} {step.seconds:6.1f}s")

    readers = [
        threading.Thread(target=_read_events, args=(run, lock, printer), daemon=True)
        for run in runs
    ]
    for reader in readers:
        reader.start()
    try:
        if console.is_terminal:
            with Live(_live_table(runs, lock), console=console, refresh_per_second=4) as live:
                while any(reader.is_alive() for reader in readers):
                    time.sleep(0.25)
                    live.update(_live_table(runs, lock))
        for reader in readers:
            reader.join()
    except (KeyboardInterrupt, interrupts.Interrupted) as exc:
        _stop_children(runs, getattr(exc, "signum", signal.SIGINT))
        raise
    wall = time.perf_counter() - started
    failed = 0
    for run in runs:
        console.rule(f"{run.name}")
        for note in run.notes:
            console.print(note, style="dim", markup=False, highlight=False)
        if run.report:
            console.print(run.report, end="", markup=False, highlight=False)
        if run.returncode != 0:
            failed += 1
            console.print(f"[red]{run.name}: cycle failed (exit {run.returncode})[/red]")
            for line in run.stderr.strip().splitlines()[-15:]:
                console.print(f"  {line}", markup=False)
    slowest = max(runs, key=lambda r: r.seconds)
    console.print(
        f"[bold]demo: {len(runs) - failed}/{len(runs)} pattern(s) deployed, exercised and destroyed "
        f"in {wall:.1f}s (slowest cycle: {slowest.name}, {slowest.seconds:.1f}s)[/bold]"
    )
    return 1 if failed else 0


def _stop_children(runs: list[PatternRun], signum: int) -> None:
    """Pass the signal on: each child destroys what it created (or names it) within the budget;
    what a child could not remove is named by this command too."""
    for run in runs:
        if run.process.poll() is None:
            run.process.send_signal(signum)
    deadline = time.monotonic() + interrupts.CLEANUP_BUDGET_SECONDS
    for run in runs:
        try:
            run.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()
            interrupts.leave(f"{run.name}: its cycle did not stop within the budget")
    for run in runs:
        for line in _output(run):
            if line.startswith(LEFT_BEHIND):
                interrupts.leave(f"{run.name}: {line[len(LEFT_BEHIND) :]}")


def _output(run: PatternRun) -> list[str]:
    deadline = time.monotonic() + 5
    while run.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the reader thread collects the last lines
    return run.stderr.splitlines()


def _start(folder: str, env: dict[str, str]) -> PatternRun:
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "catalog.demo", CHILD_FLAG, str(write_end), folder],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            pass_fds=(write_end,),
            start_new_session=True,  # a terminal's Ctrl-C reaches the demo, which passes it on
        )
    finally:
        os.close(write_end)
    return PatternRun(Path(folder).name, process, os.fdopen(read_end))


def _read_events(run: PatternRun, lock: threading.Lock, printer: Any) -> None:
    assert run.process.stdout is not None
    output: list[str] = []
    drain = threading.Thread(target=lambda: output.extend(run.process.stdout), daemon=True)
    drain.start()
    with run.events:
        for line in run.events:
            event = json.loads(line)
            with lock:
                finished = run.handle(event, time.perf_counter())
            for step in finished:
                printer(run, step)
    run.returncode = run.process.wait()
    drain.join()
    with lock:
        run.stderr = "".join(output)
        run.seconds = time.perf_counter() - run.started
        if run.steps and run.steps[-1].seconds is None:
            last = run.steps[-1]
            last.seconds = time.perf_counter() - last.started
            if run.returncode != 0:
                last.message += " (failed)"
            printer(run, last)


def _live_table(runs: list[PatternRun], lock: threading.Lock) -> Table:
    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("pattern", "step", "time"):
        table.add_column(column)
    now = time.perf_counter()
    with lock:
        for run in runs:
            for step in run.steps:
                if step.seconds is None:
                    detail = (
                        f" [dim]{escape(step.progress.split(': ', 1)[-1])}[/dim]"
                        if step.progress
                        else ""
                    )
                    table.add_row(
                        run.name,
                        f"[yellow]{escape(step.message)}…[/yellow]{detail}",
                        f"{now - step.started:.0f}s",
                    )
                else:
                    table.add_row(
                        run.name, f"[green]✓[/green] {escape(step.message)}", f"{step.seconds:.1f}s"
                    )
    return table


# ---------------------------------------------------------------- child
def child(events_fd: int, name: str) -> int:
    """One pattern's cycle on an embedded AWS of its own, reported as JSON lines on `events_fd`."""
    from . import cli
    from .deploy import cycle
    from .localaws import LocalAws
    from .patterns import load

    events = os.fdopen(events_fd, "w")

    def emit(event: dict[str, Any]) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    def progress(message: str) -> None:
        # The runner's notes on its temporary copy (an indented list under a heading ending in
        # ':') go with the report; a scenario's outcome line is a result within `scenarios`.
        if message.startswith(" ") or message.endswith(":"):
            kind = "note"
        elif PROGRESS.match(message):  # `terraform apply: 3/35 created ...`
            kind = "progress"
        elif message.startswith("scenario "):  # `scenario NAME: STATUS`, after it ran
            kind = "result"
        else:
            kind = "step"
        emit({"event": kind, "message": message})

    pattern = load(name)
    try:
        with interrupts.guard(), LocalAws() as aws:
            report = cycle(pattern, aws, progress)
    except interrupts.Interrupted as exc:  # the cycle destroyed what it created, or names it
        for message in interrupts.left_behind():
            sys.stderr.write(f"{LEFT_BEHIND}{message}\n")
        return exc.exit_code
    except Exception as exc:  # the cycle destroyed what it created; say what failed, in one place
        sys.stderr.write(f"catalog demo: {name}: {exc}\n")
        return 1
    with cli.console.capture() as capture:
        for result in report.results:
            cli._print_result(result, pattern.scenarios[result.scenario])
        cli._print_timings(pattern.name, report.timings)
        cli.console.print(
            f"[green]{pattern.name}: destroyed, inventory of every service is empty[/green]"
        )
    emit({"event": "report", "text": capture.get()})
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != CHILD_FLAG or not sys.argv[2].isdigit():
        sys.stderr.write(
            "usage: python -m catalog.demo --child FD PATTERN (run by `catalog demo`)\n"
        )
        sys.exit(2)
    sys.exit(child(int(sys.argv[2]), sys.argv[3]))
