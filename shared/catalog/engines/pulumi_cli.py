"""Real Pulumi deployments through the Pulumi Automation API (`pulumi.automation`).

The Automation API drives the Pulumi CLI, which cannot be installed on every machine: without it
every entry point raises PulumiError naming what is missing. The stack's project is a temporary
copy of the pattern (as for Terraform), so the pattern folder never gets a stack file, a venv or
build output, and the copy's Pulumi.yaml points the Python runtime at the catalog's own environment
(nothing is installed). Against the embedded AWS the stack lives in a local file backend inside that
copy and the AWS provider is pointed at the server through stack config; against real AWS the
caller's backend, config and credentials are used unchanged. Progress streams from the engine's
events: one line per resource as it completes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..patterns import Pattern
from .terraform import _COPY_IGNORE as COPY_IGNORE
from .terraform import LOCAL_ENDPOINT_SERVICES

if TYPE_CHECKING:
    from pulumi import automation as auto

    from ..localaws import LocalAws

Echo = Callable[[str], None]
STACK = "catalog-local"


class PulumiError(Exception):
    """The Pulumi CLI is missing or an operation failed; the message says which."""


def pulumi_available() -> bool:
    return shutil.which("pulumi") is not None


def require_pulumi() -> None:
    if not pulumi_available():
        raise PulumiError(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) for real Pulumi "
            "deployments; the test suite checks Pulumi programs under mocks without it"
        )


def prepare_project(pattern: Pattern, base: Path) -> Path:
    """Copy the pattern under BASE; its Pulumi.yaml runs on this interpreter's environment."""
    copy = base / "patterns" / pattern.name
    shutil.copytree(pattern.root, copy, ignore=COPY_IGNORE)
    project_file = copy / "pulumi" / "Pulumi.yaml"
    project = yaml.safe_load(project_file.read_text())
    runtime = project.get("runtime")
    options = dict(runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    options["virtualenv"] = sys.prefix  # the catalog's venv: the program's packages are there
    project["runtime"] = {"name": "python", "options": options}
    project_file.write_text(yaml.safe_dump(project, sort_keys=False))
    return copy / "pulumi"


def local_config(aws: LocalAws) -> dict[str, str]:
    """Stack config (path keys) that points the AWS provider at the embedded AWS only."""
    config = {
        "aws:region": aws.region,
        "aws:accessKey": "testing",
        "aws:secretKey": "testing",
        "aws:skipCredentialsValidation": "true",
        "aws:skipRequestingAccountId": "true",
        "aws:skipMetadataApiCheck": "true",
        "aws:s3UsePathStyle": "true",
    }
    config.update({f"aws:endpoints[0].{s}": aws.endpoint_url for s in LOCAL_ENDPOINT_SERVICES})
    return config


@dataclass
class Progress:
    """An on_event handler: one line per resource the engine finished, counted."""

    echo: Echo
    phase: str
    done: int = 0

    def __call__(self, event: auto.EngineEvent) -> None:
        finished = event.res_outputs_event
        if finished is not None and not finished.planning:
            step = finished.metadata
            if step.type == "pulumi:pulumi:Stack":
                return
            self.done += 1
            name = step.urn.rsplit("::", 1)[-1]
            self.echo(f"pulumi {self.phase}: {self.done} done · {step.op.value} {step.type} {name}")
        diagnostic = event.diagnostic_event
        if diagnostic is not None and diagnostic.severity == "error":
            self.echo(f"pulumi {self.phase}: {diagnostic.message.strip()}")


def changes(summary: dict[Any, int]) -> dict[str, int]:
    """The operations of a change summary that are not 'same'."""
    counted = {str(getattr(op, "value", op)): count for op, count in summary.items()}
    return {op: count for op, count in counted.items() if op != "same" and count}


@dataclass
class PulumiStack:
    pattern: Pattern
    aws: LocalAws | None
    workdir: Path
    stack_name: str = STACK
    backend: Path | None = None
    echo: Echo = print
    timings: dict[str, float] = field(default_factory=dict)
    _stack: auto.Stack | None = None

    def _env(self) -> dict[str, str]:
        env = {
            "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", ""),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        if self.backend is not None:
            env["PULUMI_BACKEND_URL"] = self.backend.as_uri()
        if self.aws is not None:
            env.update(self.aws.env())
        return env

    @property
    def stack(self) -> auto.Stack:
        if self._stack is None:
            raise PulumiError("the stack is not initialised (call init first)")
        return self._stack

    def _timed(self, phase: str, action: Callable[[], Any]) -> Any:
        from pulumi.automation.errors import CommandError

        started = time.perf_counter()
        try:
            return action()
        except CommandError as exc:
            tail = "\n".join(str(exc).strip().splitlines()[-25:])
            raise PulumiError(f"pulumi {phase} failed for {self.pattern.name}:\n{tail}") from exc
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started

    def init(self) -> None:
        from pulumi import automation as auto

        require_pulumi()

        def select() -> auto.Stack:
            options = auto.LocalWorkspaceOptions(work_dir=str(self.workdir), env_vars=self._env())
            stack = auto.create_or_select_stack(
                self.stack_name, work_dir=str(self.workdir), opts=options
            )
            if self.aws is not None:
                values = {k: auto.ConfigValue(v) for k, v in local_config(self.aws).items()}
                stack.set_all_config(values, path=True)
            return stack

        self._stack = self._timed("init", select)

    def up(self) -> dict[str, Any]:
        progress = Progress(self.echo, "up")
        result = self._timed("apply", lambda: self.stack.up(on_event=progress))
        return {key: output.value for key, output in result.outputs.items()}

    def has_changes(self) -> bool:
        preview = self._timed("plan", lambda: self.stack.preview())
        pending = changes(preview.change_summary)
        if pending:
            self.echo(f"pulumi preview after up: {pending}")
        return bool(pending)

    def destroy(self) -> None:
        progress = Progress(self.echo, "destroy")
        self._timed("destroy", lambda: self.stack.destroy(on_event=progress))

    def remove(self) -> None:
        self._timed("destroy", lambda: self.stack.workspace.remove_stack(self.stack_name))


@contextmanager
def local_stack(pattern: Pattern, aws: LocalAws, echo: Echo = print) -> Iterator[PulumiStack]:
    """A stack in a temporary copy and file backend, destroyed and removed on exit."""
    require_pulumi()
    base = Path(tempfile.mkdtemp(prefix=f"catalog-pulumi-{pattern.name}-"))
    try:
        backend = base / "backend"
        backend.mkdir()
        stack = PulumiStack(
            pattern, aws, prepare_project(pattern, base), backend=backend, echo=echo
        )
        stack.init()
        try:
            yield stack
        finally:
            try:
                stack.destroy()
            finally:
                stack.remove()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def _aws_stack(pattern: Pattern, echo: Echo) -> Iterator[PulumiStack]:
    """The `dev` stack in the caller's own backend (state outlives the temporary copy)."""
    require_pulumi()
    with tempfile.TemporaryDirectory(prefix=f"catalog-pulumi-{pattern.name}-") as base:
        stack = PulumiStack(
            pattern, None, prepare_project(pattern, Path(base)), stack_name="dev", echo=echo
        )
        stack.init()
        yield stack


def up(pattern: Pattern, target: str, echo: Echo) -> int:
    require_pulumi()
    if target == "aws":
        with _aws_stack(pattern, echo) as stack:
            echo("pulumi up (real AWS, your credentials and backend)")
            print(json.dumps(stack.up(), indent=2, default=str))
        return 0
    from ..localaws import LocalAws

    with LocalAws() as aws, local_stack(pattern, aws, echo) as stack:
        echo("pulumi up (embedded AWS)")
        print(json.dumps(stack.up(), indent=2, default=str))
        echo("press Ctrl-C to destroy the stack and stop the embedded AWS")
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def down(pattern: Pattern, target: str, echo: Echo) -> int:
    require_pulumi()
    if target == "local":
        echo("nothing to do: a local stack lives only while `catalog up` runs")
        return 0
    with _aws_stack(pattern, echo) as stack:
        echo("pulumi destroy (real AWS)")
        stack.destroy()
    return 0


def cycle(pattern: Pattern, echo: Echo, aws: LocalAws | None = None) -> int:
    """up -> preview shows no changes -> scenarios -> destroy -> empty inventory, on the embedded AWS."""
    from ..deploy import CycleError, Deployment, run_scenarios
    from ..localaws import LocalAws

    require_pulumi()
    with LocalAws() if aws is None else nullcontext(aws) as local:
        with local_stack(pattern, local, echo) as stack:
            echo("pulumi up (embedded AWS)")
            outputs = stack.up()
            if stack.has_changes():
                raise CycleError(f"{pattern.name}: pulumi preview after up is not empty")
            run_scenarios(
                Deployment(pattern, None, outputs, local), pattern.scenarios.values(), echo
            )
        leftovers = {k: v for k, v in local.inventory().items() if v}
        if leftovers:
            raise CycleError(f"{pattern.name}: resources left after pulumi destroy: {leftovers}")
    return 0
