"""The `catalog` command."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from . import interrupts
from .commands import (
    EXIT_BAD_INPUT,
    EXIT_CODES,
    EXIT_DEPLOYMENT,
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    BadInput,
    CatalogError,
    EnvironmentProblem,
    Parser,
    UsageError,
)
from .patterns import REPO_ROOT

# Not a terminal (CI, a pipe, a test): never wrap a line at rich's default 80 columns.
console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
STATE_HOME_ENV = "XDG_STATE_HOME"


def _state_dir(pattern: str, engine: str) -> Path:
    """Where `up --target aws` keeps its Terraform state (documented in the README)."""
    base = os.environ.get(STATE_HOME_ENV) or os.path.expanduser("~/.local/state")
    if not Path(base).is_absolute():
        raise EnvironmentProblem(f"{STATE_HOME_ENV}={base!r} must be an absolute path")
    if Path(base).exists() and not Path(base).is_dir():
        raise EnvironmentProblem(f"{STATE_HOME_ENV}={base} is not a folder")
    return Path(base) / "serverless-pattern-catalog" / pattern / engine


def _checked(name: str) -> Any:
    """The pattern, after every check that needs no deploy (metadata, scenarios, IaC parse)."""
    from .patterns import load
    from .validation import preflight

    pattern = load(name)
    problems = preflight(pattern.root)
    if problems:
        first = problems[0]
        more = (
            f" (+{len(problems) - 1} more: `catalog validate {pattern.name}`)"
            if problems[1:]
            else ""
        )
        raise BadInput(
            f"{pattern.name} is not valid, nothing was deployed: "
            f"{_where(first.file)}:{first.line or 1}: {first.code} {first.message}{more}"
        )
    return pattern


def _where(path: Path) -> str:
    from .patterns import REPO_ROOT

    return str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)


# ---------------------------------------------------------------- list / build / validate
def cmd_list(args: argparse.Namespace) -> int:
    from .metadata import validate_metadata
    from .patterns import METADATA_FILE, PatternError, discover

    patterns = discover()
    # One bad metadata file never hides the other patterns: it is listed as invalid.
    checked = [(p, validate_metadata(p.root / METADATA_FILE)) for p in patterns]
    invalid = sum(1 for _, problems in checked if problems)
    if args.format == "json":
        rows = []
        for p, problems in checked:
            try:
                row = {"name": p.name, "title": p.title, "services": p.services}
                row["variants"] = p.variants
            except (PatternError, AttributeError, TypeError):
                row = {"name": p.name, "title": None, "services": [], "variants": []}
            row["path"] = str(p.root.relative_to(REPO_ROOT))
            row["valid"] = not problems
            if problems:
                row["problem"] = problems[0].message
            rows.append(row)
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="Patterns")
    # The name is what a user copies into the next command: it is never cut or wrapped.
    widest = max((len(p.name) for p in patterns), default=7)
    table.add_column("pattern", no_wrap=True, min_width=widest)
    for column in ("title", "services", "variants"):
        table.add_column(column)
    for pattern, problems in checked:
        try:
            row = (pattern.title, ", ".join(pattern.services), ", ".join(pattern.variants))
        except (PatternError, AttributeError, TypeError):
            row = ("", "", "")
        if problems:
            row = (f"INVALID: {problems[0].message}", *row[1:])
        table.add_row(pattern.name, *row)
    console.print(table)
    if invalid:
        console.print(f"{invalid} pattern(s) with invalid metadata: `catalog validate` says why")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    import hashlib

    from .packaging import build_pattern
    from .patterns import load

    pattern = load(args.pattern)
    if args.out is not None and not args.out.strip():
        raise UsageError("catalog build: --out is empty (name a folder, or leave --out out)")
    zips = build_pattern(pattern.root, Path(args.out).expanduser() if args.out else None)
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
    summary = f"{len(patterns)} pattern(s) checked, {len(problems)} problem(s)"
    if problems:
        raise BadInput(summary)
    if args.format != "json":
        console.print(summary)
    return 0


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
    from .engines.terraform import plugin_dir_problem

    if shutil.which("terraform") is None:
        raise EnvironmentProblem("terraform is not on PATH: install Terraform >= 1.6")
    problem = plugin_dir_problem()
    if problem:
        raise EnvironmentProblem(problem)


def _require_pulumi() -> None:
    from .engines.pulumi_cli import pulumi_available

    if not pulumi_available():
        raise EnvironmentProblem(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "for real Pulumi deployments; the test suite checks Pulumi programs under mocks"
        )


def _aws_region() -> str:
    """The region boto3 would use (AWS_REGION, AWS_DEFAULT_REGION, the profile's config)."""
    import boto3
    import botocore.exceptions

    try:
        # AWS_REGION first, as the AWS CLI and SDKs do (botocore itself reads only the others).
        region = os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    except botocore.exceptions.ProfileNotFound as exc:
        raise EnvironmentProblem(f"AWS profile not found: {exc}") from exc
    if not region:
        raise EnvironmentProblem(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or a region in your AWS profile"
        )
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", region):
        raise EnvironmentProblem(f"AWS region {region!r} is not a region name (like us-east-1)")
    return region


def cmd_up(args: argparse.Namespace) -> int:
    from .deploy import deployed

    pattern = _checked(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        _require_pulumi()
        return pulumi_cli.up(pattern, target=args.target, echo=_echo)
    _require_terraform()
    if args.target == "aws":
        return _up_aws(pattern)
    with _local_aws() as aws, deployed(pattern, aws, _echo) as deployment:
        _print_outputs(deployment.outputs)
        console.print(f"embedded AWS at {aws.endpoint_url} (AWS_ENDPOINT_URL={aws.endpoint_url})")
        _wait_for_interrupt("press Ctrl-C to destroy the stack and stop the embedded AWS")
    console.print("destroyed; embedded AWS stopped")
    return 0


def _wait_for_interrupt(prompt: str) -> None:
    """Until SIGINT or SIGTERM: the normal end of a local `up` (the stack is then destroyed).
    The prompt is printed inside the wait, so a signal sent as soon as it shows is the end too."""
    try:
        console.print(prompt)
        while True:
            time.sleep(0.5)
    except (KeyboardInterrupt, interrupts.Interrupted):
        pass


def _up_aws(pattern: Any) -> int:
    from .deploy import build, clean_up
    from .engines.terraform import TerraformWorkspace
    from .packaging import exclusive

    region = _aws_region()
    directory = _state_dir(pattern.name, "terraform")
    with exclusive(directory.parent / f"{directory.name}.lock", wait=False):
        build(pattern)
        fresh = not directory.exists()
        workspace = TerraformWorkspace(
            pattern, directory=directory, echo=_echo, variables={}, region=region
        )
        try:
            workspace.prepare()
            _echo("terraform init")
            workspace.init()
            _echo(f"terraform apply (real AWS, your credentials, {region})")
            workspace.apply()
            outputs = workspace.outputs()
        except BaseException:
            # A failed up leaves nothing that misleads: what it created is destroyed, and a
            # state folder it made is removed when its state is empty.
            left = clean_up(workspace, _echo)
            if fresh and not left:
                shutil.rmtree(directory, ignore_errors=True)
            raise
    _print_outputs(outputs)
    console.print(
        f"state kept in {workspace.base}; `catalog down {pattern.name} --target aws` removes it all"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from .engines.terraform import TerraformWorkspace
    from .packaging import exclusive
    from .patterns import load

    pattern = load(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        _require_pulumi()
        return pulumi_cli.down(pattern, target=args.target, echo=_echo)
    if args.target == "local":
        console.print(
            "nothing to do: a local stack lives only while `catalog up` runs and is destroyed on exit"
        )
        return 0
    _require_terraform()
    region = _aws_region()
    directory = _state_dir(pattern.name, "terraform")
    if not directory.is_dir():
        raise BadInput(f"no deployment of {pattern.name} to AWS found ({directory} does not exist)")
    with exclusive(directory.parent / f"{directory.name}.lock", wait=False):
        workspace = TerraformWorkspace(pattern, directory=directory, echo=_echo, region=region)
        workspace.prepare()
        _echo("terraform destroy (real AWS)")
        workspace.destroy()
        shutil.rmtree(directory)
    console.print(f"{pattern.name} destroyed")
    return 0


def cmd_cycle(args: argparse.Namespace) -> int:
    from .deploy import cycle

    pattern = _checked(args.pattern)
    if args.engine == "pulumi":
        from .engines import pulumi_cli

        _require_pulumi()
        return pulumi_cli.cycle(pattern, echo=_echo)
    _require_terraform()
    with _local_aws() as aws:
        report = cycle(pattern, aws, _echo, reapply=args.reapply)
    for result in report.results:
        _print_result(result, pattern.scenarios[result.scenario])
    _print_timings(pattern.name, report.timings)
    # Restated at the end: what the offline provider made the runner change, and so not exercise.
    for adaptation in report.adaptations:
        console.print(f"offline adaptation: {adaptation}", markup=False, highlight=False)
    console.print(f"[green]{pattern.name}: cycle passed, nothing left behind[/green]")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .deploy import deployed, expectation_problems, run_scenario

    pattern = _checked(args.pattern)
    if args.scenario not in pattern.scenarios:
        raise BadInput(
            f"{pattern.name} has no scenario {args.scenario!r} (has: {', '.join(pattern.scenarios)})"
        )
    scenario = pattern.scenarios[args.scenario]
    _require_terraform()
    if args.target == "aws":
        return _run_aws(pattern, scenario)
    with _local_aws() as aws, deployed(pattern, aws, _echo) as deployment:
        _echo(f"scenario {scenario.name}")
        result = run_scenario(deployment, scenario)
        _print_result(result, scenario)
        problems = expectation_problems(scenario, result)
    if problems:
        raise CatalogError(f"{pattern.name}/{scenario.name}: " + "; ".join(problems))
    return 0


def _run_aws(pattern: Any, scenario: Any) -> int:
    from .deploy import Deployment, expectation_problems, run_scenario
    from .engines.terraform import TerraformWorkspace
    from .scenarios import check_scenarios

    region = _aws_region()
    directory = _state_dir(pattern.name, "terraform")
    if not directory.is_dir():
        raise BadInput(f"deploy first: `catalog up {pattern.name} --target aws`")
    if scenario.faults:
        console.print(
            "note: this scenario's injected faults exist only on the embedded AWS; running it plain"
        )
    workspace = TerraformWorkspace(pattern, directory=directory, region=region).prepare()
    outputs = workspace.outputs()
    if not outputs:
        raise BadInput(
            f"the deployment of {pattern.name} in {directory} has no outputs (a failed up?): "
            f"`catalog down {pattern.name} --target aws`, then `catalog up` again"
        )
    problems = check_scenarios(pattern.root, table_names=outputs.get("table_names", {}))
    if problems:
        raise BadInput(f"{_where(problems[0].file)}: {problems[0].message}")
    import boto3

    session = boto3.session.Session(region_name=region)
    result = run_scenario(Deployment(pattern, workspace, outputs, None, session), scenario)
    _print_result(result, scenario)
    unexpected = expectation_problems(scenario, result)
    if unexpected:
        raise CatalogError(f"{pattern.name}/{scenario.name}: " + "; ".join(unexpected))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    from .patterns import discover

    patterns = [_checked(name) for name in args.pattern] or [_checked(p.name) for p in discover()]
    if not patterns:
        raise BadInput("no patterns to demo")
    _require_terraform()
    return run_demo([str(p.root) for p in patterns], console)


def _print_outputs(outputs: dict[str, Any]) -> None:
    console.print_json(json.dumps(outputs, default=str))


def _print_result(result: Any, scenario: Any = None) -> None:
    expected = scenario is not None and scenario.expected_status == result.status
    colour = "green" if result.status == "SUCCEEDED" or expected else "yellow"
    verdict = ""
    if scenario is not None and scenario.expected_status:
        verdict = " as expected" if expected else f" (expected {scenario.expected_status})"
    console.print(
        f"[bold]{result.scenario}[/bold]: [{colour}]{result.status}{verdict}[/{colour}]"
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
def cmd_export(args: argparse.Namespace) -> int:
    from .export import run_export

    return run_export(args.pattern, Path(args.dest))


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import run_new

    return run_new(args.name, args.model)


def cmd_review(argv: Sequence[str]) -> int:
    from .review.cli import main as review_main

    return review_main(list(argv))


def cmd_bench(argv: Sequence[str]) -> int:
    from .bench import main as bench_main

    return bench_main(list(argv))


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="catalog",
        description="AWS serverless patterns, proven end to end.",
        epilog="exit codes: "
        + "; ".join(
            f"{code} {text.split(':')[0].split(' (')[0]}" for code, text in EXIT_CODES.items()
        )
        + " (README: Exit codes)",
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
    cycle.add_argument(
        "--reapply", action="store_true", help="apply and destroy once more (must come back)"
    )
    run = add(
        "run",
        cmd_run,
        "run one scenario of events/: local deploys its own stack on the embedded AWS, runs the "
        "scenario and destroys the stack; --target aws uses the stack of `up --target aws`",
    )
    run.add_argument("pattern")
    run.add_argument("scenario")
    run.add_argument("--target", choices=("local", "aws"), default="local")
    demo = add("demo", cmd_demo, "deploy, exercise and destroy every pattern on the embedded AWS")
    demo.add_argument(
        "pattern", nargs="*", help="only these patterns, by name or path (default: all)"
    )
    add("index", cmd_index, "regenerate the pattern index in the root README from metadata")
    export = add("export", cmd_export, "write a pattern as a standalone folder (exit 3: bad input)")
    export.add_argument("pattern")
    export.add_argument("dest")
    new = add("new", cmd_new, "scaffold patterns/NAME from a model (exit 3: bad input)")
    new.add_argument("name")
    new.add_argument("--from", dest="model", default="model", help="a pattern, or `model`")
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
    """Every failure ends as one line on stderr and the exit code of its kind (commands.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "test":  # pytest handles its own Ctrl-C and creates nothing here
        import pytest

        return int(pytest.main(argv[1:]))
    try:
        with interrupts.guard():
            try:
                return _dispatch(argv)
            finally:
                for message in interrupts.left_behind():
                    _error(f"left behind: {message}")
    except interrupts.Interrupted as exc:
        _error(f"interrupted by {exc}: cleaned up, exit {exc.exit_code}")
        return exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted by SIGINT: cleaned up, exit 130")
        return 130
    except Exception as exc:
        code = exit_code(exc)
        if code == EXIT_INTERNAL:
            _error(f"internal error (a bug, please report it): {type(exc).__name__}: {exc}")
        else:
            _error(str(exc))
        return code


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "review":
        return cmd_review(argv[1:])
    if argv and argv[0] == "bench":
        return cmd_bench(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


def _error(message: str) -> None:
    """One line on stderr, never wrapped, whatever the terminal."""
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    sys.stderr.write(f"catalog: error: {line}\n")
    sys.stderr.flush()


def exit_code(exc: BaseException) -> int:
    """The documented exit code of an error's kind."""
    import botocore.exceptions

    from .deploy import CycleError
    from .drivers import DriverError
    from .engines.pulumi_cli import PulumiError
    from .engines.terraform import TerraformError, TerraformMissing
    from .packaging import Busy, CacheUnusable, PackagingError
    from .patterns import PatternError
    from .scenarios import ScenarioError

    if isinstance(exc, CatalogError):
        return exc.exit_code
    if isinstance(exc, TerraformMissing | Busy | CacheUnusable | botocore.exceptions.NoRegionError):
        return EXIT_ENVIRONMENT
    if isinstance(exc, botocore.exceptions.NoCredentialsError | PermissionError):
        return EXIT_ENVIRONMENT
    if isinstance(exc, PatternError | ScenarioError | PackagingError):
        return EXIT_BAD_INPUT
    if isinstance(exc, CycleError | DriverError | PulumiError | TerraformError):
        return EXIT_DEPLOYMENT
    if isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError):
        return EXIT_DEPLOYMENT
    if isinstance(exc, OSError):
        return EXIT_ENVIRONMENT
    return EXIT_INTERNAL


def entry() -> None:
    """The `catalog` console script. After a signal everything the command made is cleaned up
    (or named) by the time main() returns; emulator threads still finishing a request (a
    Step Functions execution calling a Lambda that is gone) must not hold the exit."""
    code = main()
    if interrupts.received() is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
