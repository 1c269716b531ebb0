"""The `catalog` command."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .patterns import REPO_ROOT

console = Console(highlight=False)


class UsageError(Exception):
    """Bad input from the user: one clear message, exit 2."""


def _state_dir(pattern: str, engine: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME", os.path.expanduser("~/.local/state"))
    return Path(base) / "serverless-pattern-catalog" / pattern / engine


# ---------------------------------------------------------------- list / build / validate
def cmd_list(args: argparse.Namespace) -> int:
    from .patterns import discover

    patterns = discover()
    if args.format == "json":
        rows = [
            {
                "name": p.name,
                "title": p.title,
                "services": p.services,
                "variants": p.variants,
                "path": str(p.root.relative_to(REPO_ROOT)),
            }
            for p in patterns
        ]
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="Patterns")
    # The name is what a user copies into the next command: it is never cut or wrapped.
    widest = max((len(p.name) for p in patterns), default=7)
    table.add_column("pattern", no_wrap=True, min_width=widest)
    for column in ("title", "services", "variants"):
        table.add_column(column)
    for pattern in patterns:
        table.add_row(
            pattern.name, pattern.title, ", ".join(pattern.services), ", ".join(pattern.variants)
        )
    console.print(table)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    import hashlib

    from .packaging import build_pattern
    from .patterns import load

    pattern = load(args.pattern)
    zips = build_pattern(pattern.root, Path(args.out) if args.out else None)
    table = Table(title=f"{pattern.name}: one zip per function")
    for column in ("function", "zip", "bytes", "sha256"):
        table.add_column(column)
    for name, path in zips.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        table.add_row(name, str(path), f"{path.stat().st_size:,}", digest)
    console.print(table)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from .index import README, write_index

    changed = write_index()
    console.print(f"{README.name}: pattern index {'updated' if changed else 'already current'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .metadata import check_readme, validate_metadata
    from .patterns import METADATA_FILE, discover, load
    from .validation import preflight

    patterns = [load(args.pattern)] if args.pattern else discover()
    problems = validate_metadata(REPO_ROOT / METADATA_FILE) if not args.pattern else []
    for pattern in patterns:
        problems += preflight(pattern.root)
        problems += check_readme(pattern.root / "README.md", REPO_ROOT)

    def where(file: Path) -> str:
        return str(file.relative_to(REPO_ROOT) if file.is_relative_to(REPO_ROOT) else file)

    if args.format == "json":
        found = [
            {"code": p.code, "file": where(p.file), "line": p.line or 1, "message": p.message}
            for p in problems
        ]
        report = {"patterns": [p.name for p in patterns], "problems": found}
        print(json.dumps(report, indent=2))
    else:
        for problem in problems:
            console.print(
                f"{where(problem.file)}:{problem.line or 1}: [red]{problem.code}[/red] {problem.message}"
            )
        console.print(f"{len(patterns)} pattern(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_changed(args: argparse.Namespace) -> int:
    from .changes import ChangeError, changed_files, patterns_to_cycle
    from .patterns import discover

    try:
        files = changed_files(args.base, REPO_ROOT)
    except ChangeError as exc:
        raise UsageError(str(exc)) from exc
    names, reason = patterns_to_cycle(files, [p.name for p in discover()])
    if args.format == "json":
        print(json.dumps(names))
    else:
        console.print(f"{reason}: {', '.join(names) or 'none'}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from .lint import lint

    results = lint(Path(args.root).resolve() if args.root else REPO_ROOT, args.only)
    for result in results:
        mark = "[green]ok[/green]" if result.ok else "[red]FAILED[/red]"
        console.print(f"lint {result.name}: {mark} ({result.seconds:.2f}s)")
        if not result.ok:
            print(result.output, flush=True)
            if result.fix:
                console.print(f"fix with: {result.fix}")
    total = sum(result.seconds for result in results)
    if all(result.ok for result in results):
        console.print(f"[green]lint passed in {total:.1f}s[/green]")
        return 0
    console.print(f"[red]lint failed in {total:.1f}s[/red]")
    return 1


# ---------------------------------------------------------------- deploy commands
def _echo(message: str) -> None:
    console.print(f"[dim]· {message}[/dim]")


def _local_aws() -> Any:
    from .localaws import LocalAws

    return LocalAws()


def _require_terraform() -> None:
    if shutil.which("terraform") is None:
        raise UsageError("terraform is not on PATH: install Terraform >= 1.6")


def cmd_up(args: argparse.Namespace) -> int:
    from .deploy import deployed
    from .patterns import load

    pattern = load(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        return pulumi_cli.up(pattern, target=args.target, echo=_echo)
    _require_terraform()
    if args.target == "aws":
        return _up_aws(pattern)
    with _local_aws() as aws, deployed(pattern, aws, _echo) as deployment:
        _print_outputs(deployment.outputs)
        console.print(f"embedded AWS at {aws.endpoint_url} (AWS_ENDPOINT_URL={aws.endpoint_url})")
        console.print("press Ctrl-C to destroy the stack and stop the embedded AWS")
        _wait_for_interrupt()
    console.print("destroyed; embedded AWS stopped")
    return 0


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _up_aws(pattern: Any) -> int:
    from .deploy import build
    from .engines.terraform import TerraformWorkspace

    build(pattern)
    workspace = TerraformWorkspace(
        pattern, directory=_state_dir(pattern.name, "terraform"), echo=_echo
    ).prepare()
    _echo("terraform init")
    workspace.init()
    _echo("terraform apply (real AWS, your credentials)")
    workspace.apply()
    _print_outputs(workspace.outputs())
    console.print(
        f"state kept in {workspace.base}; `catalog down {pattern.name} --target aws` removes it all"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from .engines.terraform import TerraformWorkspace
    from .patterns import load

    pattern = load(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        return pulumi_cli.down(pattern, target=args.target, echo=_echo)
    if args.target == "local":
        console.print(
            "nothing to do: a local stack lives only while `catalog up` runs and is destroyed on exit"
        )
        return 0
    _require_terraform()
    directory = _state_dir(pattern.name, "terraform")
    if not directory.is_dir():
        raise UsageError(
            f"no deployment of {pattern.name} to AWS found ({directory} does not exist)"
        )
    workspace = TerraformWorkspace(pattern, directory=directory, echo=_echo).prepare()
    _echo("terraform destroy (real AWS)")
    workspace.destroy()
    shutil.rmtree(directory)
    console.print(f"{pattern.name} destroyed")
    return 0


def cmd_cycle(args: argparse.Namespace) -> int:
    from .deploy import cycle
    from .patterns import load

    pattern = load(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        return pulumi_cli.cycle(pattern, echo=_echo)
    _require_terraform()
    with _local_aws() as aws:
        report = cycle(pattern, aws, _echo)
    for result in report.results:
        _print_result(result)
    _print_timings(pattern.name, report.timings)
    console.print(f"[green]{pattern.name}: cycle passed, nothing left behind[/green]")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .deploy import deployed, expectation_problems, run_scenario
    from .patterns import load

    pattern = load(args.pattern)
    if args.scenario not in pattern.scenarios:
        raise UsageError(
            f"{pattern.name} has no scenario {args.scenario!r} (has: {', '.join(pattern.scenarios)})"
        )
    scenario = pattern.scenarios[args.scenario]
    _require_terraform()
    if args.target == "aws":
        return _run_aws(pattern, scenario)
    with _local_aws() as aws, deployed(pattern, aws, _echo) as deployment:
        result = run_scenario(deployment, scenario)
        _print_result(result)
        problems = expectation_problems(scenario, result)
    for problem in problems:
        console.print(f"[red]unexpected: {problem}[/red]")
    return 1 if problems else 0


def _run_aws(pattern: Any, scenario: Any) -> int:
    from .deploy import Deployment, run_scenario
    from .engines.terraform import TerraformWorkspace

    directory = _state_dir(pattern.name, "terraform")
    if not directory.is_dir():
        raise UsageError(f"deploy first: `catalog up {pattern.name} --target aws`")
    if scenario.faults:
        console.print(
            "note: this scenario's injected faults exist only on the embedded AWS; running it plain"
        )
    workspace = TerraformWorkspace(pattern, directory=directory).prepare()
    deployment = Deployment(pattern, workspace, workspace.outputs(), None)
    _print_result(run_scenario(deployment, scenario))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .deploy import cycle
    from .patterns import discover

    _require_terraform()
    patterns = [p for p in discover() if not args.pattern or p.name in args.pattern]
    if not patterns:
        raise UsageError("no patterns to demo")
    for index, pattern in enumerate(patterns, start=1):
        console.rule(f"[{index}/{len(patterns)}] {pattern.name}: {pattern.title}")
        with _local_aws() as aws:
            report = cycle(pattern, aws, _echo)
        for result in report.results:
            _print_result(result)
        _print_timings(pattern.name, report.timings)
        console.print(
            f"[green]{pattern.name}: destroyed, inventory of every service is empty[/green]"
        )
    console.print(
        f"[bold green]demo finished: {len(patterns)} pattern(s) deployed, exercised and destroyed[/bold green]"
    )
    return 0


def _print_outputs(outputs: dict[str, Any]) -> None:
    console.print_json(json.dumps(outputs, default=str))


def _print_result(result: Any) -> None:
    colour = "green" if result.status == "SUCCEEDED" else "yellow"
    console.print(
        f"[bold]{result.scenario}[/bold]: [{colour}]{result.status}[/{colour}]"
        + (f" ({result.error})" if result.error else "")
        + f" in {result.duration_s * 1000:.0f} ms"
    )
    if result.steps:
        steps = []
        for step in result.steps:
            mark = "" if step.ok else " ✗"
            retries = f" x{step.attempts}" if step.attempts > 1 else ""
            label = f"↩ {step.name}" if step.kind == "compensation" else step.name
            steps.append(f"{label}{retries}{mark}")
        console.print("  steps: " + " → ".join(steps))
    if result.compensations:
        console.print("  compensations: " + " → ".join(result.compensations))
    for table, rows in result.tables.items():
        shown = "; ".join(_row_summary(row) for row in rows[:4]) or "(no rows for this scenario)"
        more = f" (+{len(rows) - 4} more)" if len(rows) > 4 else ""
        console.print(f"  {table}: {shown}{more}")


def _row_summary(row: dict[str, Any]) -> str:
    """The short scalar fields of a row (ids, status, amounts): what tells the story."""
    fields = [
        f"{key}={value}"
        for key, value in sorted(row.items())
        if not isinstance(value, dict | list) and len(str(value)) <= 40 and not key.endswith("_at")
    ]
    return "{" + ", ".join(fields) + "}"


def _print_timings(name: str, timings: dict[str, float]) -> None:
    phases = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in timings.items())
    console.print(f"  [dim]{name} timings: {phases}[/dim]")


# ---------------------------------------------------------------- delegated commands
def cmd_review(argv: Sequence[str]) -> int:
    from .review.cli import main as review_main

    return review_main(list(argv))


def cmd_bench(argv: Sequence[str]) -> int:
    from .bench import main as bench_main

    return bench_main(list(argv))


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="catalog", description="AWS serverless patterns, proven end to end."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    listing = add("list", cmd_list, "list the patterns with title, services and variants")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    build = add("build", cmd_build, "build one deterministic zip per function")
    build.add_argument("pattern")
    build.add_argument("--out", help="output folder (default: PATTERN/build)")
    for name, handler, text in (
        ("up", cmd_up, "deploy a pattern (local: until Ctrl-C, then destroyed)"),
        ("down", cmd_down, "destroy a pattern deployed with --target aws"),
    ):
        command = add(name, handler, text)
        command.add_argument("pattern")
        command.add_argument("--engine", choices=("terraform", "pulumi"), default="terraform")
        command.add_argument("--target", choices=("local", "aws"), default="local")
    cycle = add(
        "cycle",
        cmd_cycle,
        "up -> drift check -> scenarios -> down -> leftover check, on the embedded AWS",
    )
    cycle.add_argument("pattern")
    cycle.add_argument("--engine", choices=("terraform", "pulumi"), default="terraform")
    run = add("run", cmd_run, "run one scenario of events/ against a deployed pattern")
    run.add_argument("pattern")
    run.add_argument("scenario")
    run.add_argument("--target", choices=("local", "aws"), default="local")
    demo = add("demo", cmd_demo, "deploy, exercise and destroy every pattern on the embedded AWS")
    demo.add_argument("pattern", nargs="*", help="only these patterns (default: all)")
    add("index", cmd_index, "regenerate the pattern index in the root README from metadata")
    validate = add(
        "validate",
        cmd_validate,
        "metadata, scenario, README, Terraform and Pulumi parse checks (nothing is deployed)",
    )
    validate.add_argument("pattern", nargs="?")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    changed = add(
        "changed",
        cmd_changed,
        "the patterns a change since BASE must cycle (all of them when shared code changed)",
    )
    changed.add_argument("--base", required=True, help="git ref to compare with, e.g. origin/main")
    changed.add_argument("--format", choices=("text", "json"), default="text")
    from .lint import STEP_NAMES

    lint = add(
        "lint", cmd_lint, "ruff, terraform fmt/validate, workflow checks (the tests run it first)"
    )
    lint.add_argument("--root", help="repository to lint (default: this one)")
    lint.add_argument(
        "--only",
        action="append",
        choices=STEP_NAMES,
        default=[],
        help="only this step (repeatable)",
    )
    sub.add_parser(
        "review", help="review checks on patterns (see `catalog review --help`)", add_help=False
    )
    sub.add_parser(
        "bench", help="benchmark cycle phases, scenarios, zips and imports", add_help=False
    )
    sub.add_parser(
        "test", help="run the whole test suite (pytest arguments pass through)", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "review":
            return cmd_review(argv[1:])
        if argv and argv[0] == "bench":
            return cmd_bench(argv[1:])
        if argv and argv[0] == "test":
            import pytest

            return int(pytest.main(argv[1:]))
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted: created resources were destroyed, the embedded AWS stopped[/yellow]"
        )
        return 130
    except UsageError as exc:
        console.print(f"[red]catalog: {exc}[/red]")
        return 2
    except Exception as exc:
        if not _is_expected(exc):
            raise
        console.print(f"[red]catalog: {exc}[/red]")
        return 1


def _is_expected(exc: Exception) -> bool:
    """Errors that carry a clear message for the user (no traceback for those)."""
    from .deploy import CycleError
    from .drivers import DriverError
    from .engines.pulumi_cli import PulumiError
    from .engines.terraform import TerraformError
    from .packaging import PackagingError
    from .patterns import PatternError
    from .scenarios import ScenarioError

    return isinstance(
        exc,
        CycleError
        | DriverError
        | PulumiError
        | TerraformError
        | PackagingError
        | PatternError
        | ScenarioError,
    )


if __name__ == "__main__":
    sys.exit(main())
