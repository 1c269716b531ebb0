"""Deploy, exercise and destroy a pattern: the one code path behind the CLI, the tests and the bench."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import export, interrupts
from .drivers import DriverContext, ScenarioResult, get_driver
from .engines.terraform import TerraformError, TerraformWorkspace
from .packaging import build_pattern
from .patterns import Pattern
from .scenarios import Scenario

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .localaws import LocalAws

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class CycleError(Exception):
    """A cycle step failed its check (drift after apply, a scenario outcome, leftovers)."""


@dataclass
class Deployment:
    pattern: Pattern
    workspace: TerraformWorkspace | None  # None: deployed by another engine (Pulumi)
    outputs: dict[str, Any]
    aws: LocalAws | None
    session: Any = None  # real AWS: the boto3 Session (region resolved) the driver uses

    def context(self) -> DriverContext:
        return DriverContext(
            pattern=self.pattern, outputs=self.outputs, aws=self.aws, session=self.session
        )


def build(pattern: Pattern, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The zips into the pattern's build/: an export runs its own build script."""
    started = time.perf_counter()
    zips = (
        export.run_build_script(pattern.root) if pattern.exported else build_pattern(pattern.root)
    )
    if timings is not None:
        timings["build"] = time.perf_counter() - started
    return zips


def deploy(
    pattern: Pattern,
    aws: LocalAws | None,
    echo: Echo = _quiet,
    *,
    validate: bool = False,
    **variables: Any,
) -> Deployment:
    """Build the zips, then init (+ validate) + apply the pattern's Terraform root in a fresh
    workspace."""
    timings: dict[str, float] = {}
    echo(f"build ({pattern.name})")
    build(pattern, timings)
    workspace = TerraformWorkspace(
        pattern, aws=aws, variables=dict(variables), echo=echo, timings=timings
    )
    try:
        workspace.prepare()
        echo(f"terraform init ({pattern.name})")
        workspace.init()
        if validate:
            echo(f"terraform validate ({pattern.name})")
            workspace.validate()
        echo(f"terraform apply ({pattern.name})")
        workspace.apply()
        outputs = workspace.outputs()
    except BaseException:
        # Never leave half a stack behind: destroy whatever the failed apply created.
        clean_up(workspace)
        raise
    return Deployment(pattern, workspace, outputs, aws)


def clean_up(workspace: TerraformWorkspace, echo: Echo | None = None) -> list[str]:
    """Destroy what the workspace's state holds and remove a temporary workspace; returns the
    resources still in state (empty: nothing left). Never raises a terraform failure: the
    original error is the one worth reporting. After a signal, progress goes to stderr and
    anything left is recorded (`interrupts.leave`) with the command that removes it."""
    interrupted = interrupts.received() is not None
    say = echo or (interrupts.notice if interrupted else _quiet)
    started = time.perf_counter()
    left = workspace.state_addresses()
    try:
        budget = interrupts.budget_left()
        if left and not interrupts.aborted() and budget != 0.0:
            say(
                f"destroying the {len(left)} resource(s) created so far ({workspace.pattern.name})"
                + (f", {budget:.0f} s left of the cleanup budget" if budget is not None else "")
            )
            try:
                workspace.destroy(
                    on_line=_destroy_progress(say) if interrupted else None, timeout=budget
                )
            except TerraformError as exc:
                say(f"destroy did not finish: {exc}")
            except interrupts.Interrupted:
                pass  # the first signal came during this destroy: what is left is named below
            left = workspace.state_addresses()
    finally:
        kept = workspace.directory
        say("removing the temporary workspace" if kept is None else f"state kept in {kept}")
        workspace.cleanup()
    if left:
        _report_left(workspace, left)
    elif interrupted:
        say(f"cleanup done in {time.perf_counter() - started:.1f} s: nothing left")
    return left


def _destroy_progress(say: Echo) -> Echo:
    def show(line: str) -> None:
        if "Destruction complete" in line or "Destroying..." in line:
            say("  " + line.split(": ", 1)[0] + ": " + line.split(": ", 1)[-1][:80])

    return show


def _report_left(workspace: TerraformWorkspace, left: list[str]) -> None:
    name = workspace.pattern.name
    listing = ", ".join(left)
    if workspace.aws is not None:
        interrupts.leave(
            f"{len(left)} resource(s) were not destroyed in the embedded AWS ({listing}); they "
            "ended with it when it stopped, nothing outside this process held them"
        )
    else:
        interrupts.leave(
            f"{len(left)} resource(s) of {name} remain in AWS ({listing}); state in "
            # A real-AWS workspace is always a kept directory: cleanup() never removes its state.
            f"{workspace.directory}; remove them with: catalog down {name} --target aws"
        )


def destroy(deployment: Deployment, echo: Echo = _quiet) -> None:
    """Destroy and remove the workspace; a failed destroy raises (after the cleanup)."""
    workspace = deployment.workspace
    if workspace is None:
        return
    if interrupts.received() is not None:
        clean_up(workspace)  # after a signal: progress, and whatever is left is named
        return
    echo(f"terraform destroy ({deployment.pattern.name})")
    try:
        workspace.destroy()
    except TerraformError:
        workspace.cleanup()
        raise
    except BaseException:
        clean_up(workspace)
        raise
    workspace.cleanup()


def seed_tables(ctx: DriverContext, scenario: Scenario) -> None:
    """Write a scenario's `seed` items into the deployed tables (by logical table name)."""
    if not scenario.seed:
        return
    tables = ctx.outputs.get("table_names", {})
    dynamodb = ctx.client("dynamodb")
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    for logical, items in scenario.seed.items():
        if logical not in tables:
            raise CycleError(
                f"scenario {scenario.name}: seed table {logical!r} is not in outputs.table_names"
            )
        for item in items:
            dynamodb.put_item(
                TableName=tables[logical],
                Item={k: serializer.serialize(_decimals(v)) for k, v in item.items()},
            )


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def run_scenario(deployment: Deployment, scenario: Scenario) -> ScenarioResult:
    ctx = deployment.context()
    seed_tables(ctx, scenario)
    driver = get_driver(deployment.pattern.driver_kind)
    started = time.perf_counter()
    try:
        result = driver(ctx, scenario)
    finally:
        if deployment.aws is not None:
            deployment.aws.faults.clear()
    result.duration_s = result.duration_s or time.perf_counter() - started
    return result


def expectation_problems(scenario: Scenario, result: ScenarioResult) -> list[str]:
    problems = []
    if scenario.expected_status and result.status != scenario.expected_status:
        problems.append(
            f"status {result.status}, expected {scenario.expected_status} ({result.error})"
        )
    if scenario.expected_error and result.error != scenario.expected_error:
        problems.append(f"error {result.error!r}, expected {scenario.expected_error!r}")
    return problems


@dataclass
class CycleReport:
    pattern: str
    timings: dict[str, float] = field(default_factory=dict)
    results: list[ScenarioResult] = field(default_factory=list)
    drift: bool = False
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    adaptations: list[str] = field(default_factory=list)
    # The export the cycle deployed: its file count and size in bytes (None: a given export).
    export_files: int | None = None
    export_bytes: int | None = None


def run_scenarios(
    deployment: Deployment, scenarios: Iterable[Scenario], echo: Echo = _quiet
) -> list[ScenarioResult]:
    results = []
    for scenario in scenarios:
        result = run_scenario(deployment, scenario)
        problems = expectation_problems(scenario, result)
        echo(
            f"scenario {scenario.name}: {result.status}"
            + (f" ({'; '.join(problems)})" if problems else "")
            + (" as expected" if scenario.expected_status and not problems else "")
        )
        if problems:
            raise CycleError(f"{deployment.pattern.name}/{scenario.name}: " + "; ".join(problems))
        results.append(result)
    return results


def cycle(
    pattern: Pattern, aws: LocalAws, echo: Echo = _quiet, *, reapply: bool = False
) -> CycleReport:
    """export -> up (init, validate, apply) -> drift check -> scenarios -> down -> leftover check
    (-> optional second apply + down).

    What is deployed is a fresh `catalog export` of the pattern in a temporary folder, built by its
    own build.py and applied with its vendored modules: one cycle proves the stack and that the
    pattern stands on its own. A folder that already is an export is deployed as it is.
    """
    echo(f"export ({pattern.name})")
    with export.temporary_export(pattern) as (standalone, result):
        if result is not None:
            echo(f"exported to a temporary folder: {result.files} files, {result.size:,} bytes")
        report = _cycle(standalone, aws, echo, reapply=reapply)
    if result is not None:
        report.export_files, report.export_bytes = result.files, result.size
    return report


def _cycle(pattern: Pattern, aws: LocalAws, echo: Echo, *, reapply: bool) -> CycleReport:
    report = CycleReport(pattern.name)
    deployment = deploy(pattern, aws, echo, validate=True)
    report.timings = deployment.workspace.timings
    report.adaptations = [str(c) for c in deployment.workspace.changes]
    try:
        echo("terraform plan -detailed-exitcode (drift check)")
        report.drift = deployment.workspace.plan_has_changes()
        if report.drift:
            raise CycleError(f"{pattern.name}: plan after apply is not empty (perpetual diff)")
        started = time.perf_counter()
        echo(f"scenarios ({pattern.name})")
        report.results = run_scenarios(deployment, pattern.scenarios.values(), echo)
        report.timings["scenarios"] = time.perf_counter() - started
        echo(f"terraform destroy ({pattern.name})")
        deployment.workspace.destroy()
        report.leftovers = {k: v for k, v in aws.inventory().items() if v}
        if report.leftovers:
            raise CycleError(f"{pattern.name}: resources left after destroy: {report.leftovers}")
        if reapply:
            echo("terraform apply again (a destroyed stack must come back)")
            deployment.workspace.apply()
            echo(f"terraform destroy again ({pattern.name})")
            deployment.workspace.destroy()
    except BaseException:
        clean_up(deployment.workspace)
        raise
    deployment.workspace.cleanup()
    return report


@contextmanager
def deployed(pattern: Pattern, aws: LocalAws | None, echo: Echo = _quiet) -> Iterator[Deployment]:
    deployment = deploy(pattern, aws, echo)
    try:
        yield deployment
    finally:
        destroy(deployment, echo)
