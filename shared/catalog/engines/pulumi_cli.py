"""Real Pulumi deployments through the Pulumi CLI (which cannot be installed on every machine).

Against the embedded AWS the stack lives in a temporary local file backend and the AWS provider is
pointed at the server through stack config; against real AWS the caller's backend and credentials
are used unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..patterns import Pattern
from .terraform import LOCAL_ENDPOINT_SERVICES

if TYPE_CHECKING:
    from ..localaws import LocalAws

Echo = Callable[[str], None]
STACK = "catalog-local"


class PulumiError(Exception):
    """The Pulumi CLI is missing or a command failed; the message says which."""


def pulumi_available() -> bool:
    return shutil.which("pulumi") is not None


def require_pulumi() -> None:
    if not pulumi_available():
        raise PulumiError(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) for real Pulumi "
            "deployments; the test suite checks Pulumi programs under mocks without it"
        )


@dataclass
class PulumiStack:
    pattern: Pattern
    aws: LocalAws | None
    stack: str = STACK
    timings: dict[str, float] = field(default_factory=dict)
    backend: Path | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("PULUMI_CONFIG_PASSPHRASE", "")
        env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
        if self.backend is not None:
            env["PULUMI_BACKEND_URL"] = self.backend.as_uri()
        if self.aws is not None:
            env.update(self.aws.env())
        return env

    def run(self, phase: str, *args: str) -> str:
        started = time.perf_counter()
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.pattern.pulumi_dir,
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-25:])
            raise PulumiError(f"pulumi {args[0]} failed for {self.pattern.name}:\n{tail}")
        return result.stdout

    def init(self) -> None:
        self.run("init", "stack", "select", "--create", self.stack)
        if self.aws is None:
            return
        settings = {
            "aws:region": self.aws.region,
            "aws:accessKey": "testing",
            "aws:secretKey": "testing",
            "aws:skipCredentialsValidation": "true",
            "aws:skipRequestingAccountId": "true",
            "aws:skipMetadataApiCheck": "true",
            "aws:s3UsePathStyle": "true",
        }
        for key, value in settings.items():
            self.run("init", "config", "set", key, value)
        for service in LOCAL_ENDPOINT_SERVICES:
            self.run(
                "init",
                "config",
                "set",
                "--path",
                f"aws:endpoints[0].{service}",
                self.aws.endpoint_url,
            )

    def up(self) -> dict[str, Any]:
        self.run("apply", "up", "--yes", "--skip-preview")
        return json.loads(self.run("output", "stack", "output", "--json") or "{}")

    def has_changes(self) -> bool:
        try:
            self.run("plan", "preview", "--expect-no-changes")
        except PulumiError:
            return True
        return False

    def destroy(self) -> None:
        self.run("destroy", "destroy", "--yes")

    def remove(self) -> None:
        self.run("destroy", "stack", "rm", "--yes", self.stack)


@contextmanager
def local_stack(pattern: Pattern, aws: LocalAws) -> Iterator[PulumiStack]:
    """A stack in a temporary file backend that is destroyed and removed on exit."""
    require_pulumi()
    backend = Path(tempfile.mkdtemp(prefix=f"catalog-pulumi-{pattern.name}-"))
    stack = PulumiStack(pattern, aws, backend=backend)
    try:
        stack.init()
        yield stack
    finally:
        try:
            stack.destroy()
            stack.remove()
        finally:
            shutil.rmtree(backend, ignore_errors=True)


def up(pattern: Pattern, target: str, echo: Echo) -> int:
    require_pulumi()
    if target == "aws":
        stack = PulumiStack(pattern, None, stack="dev")
        stack.init()
        echo("pulumi up (real AWS, your credentials and backend)")
        print(json.dumps(stack.up(), indent=2))
        return 0
    from ..localaws import LocalAws

    with LocalAws() as aws, local_stack(pattern, aws) as stack:
        echo("pulumi up (embedded AWS)")
        print(json.dumps(stack.up(), indent=2))
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
    stack = PulumiStack(pattern, None, stack="dev")
    stack.destroy()
    return 0


def cycle(pattern: Pattern, echo: Echo, aws: LocalAws | None = None) -> int:
    """up -> preview shows no changes -> scenarios -> destroy -> empty inventory, on the embedded AWS."""
    from ..deploy import CycleError, Deployment, run_scenarios
    from ..localaws import LocalAws

    require_pulumi()
    with LocalAws() if aws is None else nullcontext(aws) as local:
        with local_stack(pattern, local) as stack:
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
