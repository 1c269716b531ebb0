"""Terraform runs in temporary workspaces, against the embedded AWS or real AWS.

A workspace is a copy of the pattern (its Terraform root and the files the root reads) plus the
shared modules, laid out as in the repository so relative module sources still resolve. For the
embedded AWS the runner adds one override file with the endpoints and the offline provider settings;
the pattern's own files stay usable against real AWS unchanged. State never lands in the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import interrupts
from ..patterns import REPO_ROOT, Pattern
from . import terraform_init
from .terraform_log import TerraformLog
from .terraform_progress import TerraformProgress

if TYPE_CHECKING:
    from ..localaws import LocalAws

PLUGIN_DIR_ENV = "CATALOG_TF_PLUGIN_DIR"
PARALLELISM_ENV = "CATALOG_TF_PARALLELISM"
# Without a mirror, providers are downloaded once into this cache and linked into each workspace.
PLUGIN_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "catalog-terraform-plugins"
)
OVERRIDE_FILE = "catalog_local_override.tf"
# Every service a catalog pattern may touch; the provider must never reach real AWS from a test.
LOCAL_ENDPOINT_SERVICES = (
    "apigateway", "apigatewayv2", "cloudwatch", "dynamodb", "events", "iam", "kms", "lambda",
    "logs", "s3", "sfn", "sns", "sqs", "ssm", "sts", "secretsmanager",
)  # fmt: skip
_COPY_IGNORE = shutil.ignore_patterns(
    ".terraform",
    "*.tfstate*",
    ".terraform.lock.hcl",
    "build",
    "tests",
    "__pycache__",
    "venv",
    ".venv",
)


class TerraformError(Exception):
    """A terraform command failed; the message carries terraform's own error, on one line."""


class TerraformMissing(TerraformError):
    """Terraform, or the provider mirror CATALOG_TF_PLUGIN_DIR names, is not usable here."""


def error_summary(output: str) -> str:
    """Terraform's first `Error:` with its detail line, flattened to one line."""
    lines = [line.strip(" │╷╵") for line in output.splitlines()]
    lines = [line for line in lines if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            return " ".join(lines[index : index + 3])[:400]
    return " ".join(lines[-3:])[:400] or "(no output)"


@dataclass
class Change:
    """One edit the runner made to its temporary copy (never to the pattern)."""

    file: str
    line: int
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.before.strip()!r} -> {self.after.strip()!r}"


@dataclass
class TerraformWorkspace:
    pattern: Pattern
    aws: LocalAws | None = None  # None: real AWS with the caller's credentials
    variables: dict[str, Any] = field(default_factory=dict)
    directory: Path | None = None  # a kept workspace (real AWS state); default: a temp dir
    echo: Callable[[str], None] | None = None
    region: str | None = None  # real AWS: the region boto3 resolved (env vars or profile)
    timings: dict[str, float] = field(default_factory=dict)
    # Per phase, Terraform's own time from its machine-readable log (see terraform_log).
    terraform_timings: dict[str, float] = field(default_factory=dict)
    # Per phase and resource address, the provider's time for that resource.
    resource_timings: dict[str, dict[str, float]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    _temp: Path | None = None

    # ------------------------------------------------------------ layout
    @property
    def root(self) -> Path:
        return self.base / "patterns" / self.pattern.name / "terraform"

    @property
    def base(self) -> Path:
        if self.directory is not None:
            return self.directory
        if self._temp is None:
            self._temp = Path(tempfile.mkdtemp(prefix=f"catalog-tf-{self.pattern.name}-"))
        return self._temp

    def prepare(self) -> TerraformWorkspace:
        """Copy the pattern and the shared modules; add the local override; adapt if needed."""
        pattern_copy = self.base / "patterns" / self.pattern.name
        if pattern_copy.exists():
            # A kept workspace: refresh sources, keep .terraform and state.
            for child in self.pattern.root.iterdir():
                if child.is_dir() and child.name not in ("build", "tests"):
                    shutil.copytree(
                        child, pattern_copy / child.name, ignore=_COPY_IGNORE, dirs_exist_ok=True
                    )
        else:
            shutil.copytree(self.pattern.root, pattern_copy, ignore=_COPY_IGNORE)
        shutil.copytree(
            REPO_ROOT / "terraform",
            self.base / "terraform",
            ignore=_COPY_IGNORE,
            dirs_exist_ok=True,
        )
        if self.aws is not None:
            (self.root / OVERRIDE_FILE).write_text(local_override(self.aws.region))
            self.changes = adapt_for_local_provider(self.base)
            if self.changes and self.echo:
                self.echo(
                    "adapted the temporary copy for the local provider (the pattern is unchanged):"
                )
                for change in self.changes:
                    self.echo(f"  {change}")
        return self

    def cleanup(self) -> None:
        with interrupts.deferred():
            if self._temp is not None:
                shutil.rmtree(self._temp, ignore_errors=True)
                self._temp = None

    # ------------------------------------------------------------ commands
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        if os.environ.get(PLUGIN_DIR_ENV) is None:
            PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
            env.setdefault("TF_PLUGIN_CACHE_DIR", str(PLUGIN_CACHE))
        if self.aws is not None:
            # The endpoint reaches the provider as AWS_ENDPOINT_URL (every service), not as an
            # `endpoints` block: validating that block costs the provider about 4 s per command.
            for key in [k for k in env if k.startswith("AWS_ENDPOINT_URL_")]:
                del env[key]
            env.pop("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", None)
            env["AWS_CONFIG_FILE"] = os.devnull  # no profile can redirect a service elsewhere
            env.update(self.aws.env())
        elif self.region:
            env.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        variables = {"artifacts_dir": str(self.pattern.build_dir), **self.variables}
        for key, value in variables.items():
            env[f"TF_VAR_{key}"] = value if isinstance(value, str) else json.dumps(value)
        return env

    def run(
        self,
        phase: str,
        *args: str,
        ok_codes: tuple[int, ...] = (0,),
        on_line: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """One terraform command in its own process group, with a private TMPDIR (the provider
        plugins put their sockets there) that is removed afterwards, whatever happens."""
        if interrupts.aborted():
            raise TerraformError(f"terraform {args[0]} not started: a second signal aborted it")
        started = time.perf_counter()
        private_tmp = _private_tmpdir(self.base)
        env = {**self._env(), "TMPDIR": str(private_tmp)}
        try:
            result = interrupts.run(
                ["terraform", *args], cwd=self.root, env=env, on_line=on_line, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(
                f"terraform {args[0]} stopped: it did not finish within {timeout:.0f} s"
            ) from exc
        except FileNotFoundError as exc:
            raise TerraformMissing("terraform is not on PATH (install Terraform >= 1.6)") from exc
        finally:
            shutil.rmtree(private_tmp, ignore_errors=True)
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started
        log = TerraformLog.parse(result.stdout) if "-json" in args else None
        if log is not None:
            self._record(phase, log)
        if result.returncode not in ok_codes:
            errors = "\n".join(log.errors()) if log is not None else ""
            raise TerraformError(
                f"terraform {args[0]} failed for {self.pattern.name} (exit {result.returncode}): "
                + error_summary(errors or result.stderr or result.stdout)
            )
        return result

    def _record(self, phase: str, log: TerraformLog) -> None:
        own = log.own_seconds()
        if own is not None:
            self.terraform_timings[phase] = self.terraform_timings.get(phase, 0.0) + own
        if resources := log.resource_seconds():
            self.resource_timings.setdefault(phase, {}).update(resources)

    def init(self) -> None:
        """`terraform init`, or the result of an identical init earlier in this process."""
        args = ["init", "-json", "-no-color", "-input=false", *plugin_dir_args()]
        plugin_dir = os.environ.get(PLUGIN_DIR_ENV)
        key = terraform_init.init_key(self.base, self.root, plugin_dir)
        started = time.perf_counter()
        if (self.root / ".terraform").exists() or not terraform_init.restore(key, self.root):
            self.run("init", *args)
            terraform_init.remember(key, self.root, plugin_dir)
        else:
            self.timings["init"] = self.timings.get("init", 0.0) + time.perf_counter() - started
            self.terraform_timings.setdefault("init", 0.0)

    def _parallelism(self) -> str:
        """Terraform's default is 10 operations at once; a pattern's stack rarely waits on more."""
        value = os.environ.get(PARALLELISM_ENV, "20")
        if not value.isdigit() or int(value) < 1:
            raise TerraformMissing(f"{PARALLELISM_ENV}={value} is not a whole number of at least 1")
        return f"-parallelism={value}"

    def _progress(self, phase: str) -> Callable[[str], None] | None:
        """Live resources done of total, through `echo`, while the command runs."""
        return TerraformProgress(self.echo, phase) if self.echo else None

    def apply(self) -> None:
        self.run(
            "apply",
            "apply",
            "-json",
            "-input=false",
            "-auto-approve",
            self._parallelism(),
            on_line=self._progress("apply"),
        )

    def plan_has_changes(self) -> bool:
        """`plan -detailed-exitcode` (with its refresh): 0 no changes, 2 changes."""
        result = self.run(
            "plan",
            "plan",
            "-json",
            "-input=false",
            "-detailed-exitcode",
            self._parallelism(),
            ok_codes=(0, 2),
        )
        return result.returncode == 2

    def plan_json(self, *, refresh: bool = True) -> dict[str, Any]:
        plan_file = self.base / "catalog.tfplan"
        args = ["plan", "-json", "-input=false", f"-out={plan_file}", self._parallelism()]
        if not refresh:
            args.append("-refresh=false")
        self.run("plan", *args)
        shown = self.run("show", "show", "-json", str(plan_file))
        return json.loads(shown.stdout)

    def destroy(
        self, on_line: Callable[[str], None] | None = None, timeout: float | None = None
    ) -> None:
        self.run(
            "destroy",
            "destroy",
            "-json",
            "-input=false",
            "-auto-approve",
            self._parallelism(),
            on_line=on_line or self._progress("destroy"),
            timeout=timeout,
        )

    def state_addresses(self) -> list[str]:
        """Resources recorded in the local state (read from the file: no terraform needed)."""
        path = self.root / "terraform.tfstate"
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        addresses = []
        for resource in state.get("resources", []):
            if resource.get("mode") != "managed":
                continue
            prefix = f"{resource['module']}." if resource.get("module") else ""
            for instance in resource.get("instances", []):
                key = instance.get("index_key")
                suffix = "" if key is None else f"[{json.dumps(key)}]"
                addresses.append(f"{prefix}{resource['type']}.{resource['name']}{suffix}")
        return addresses

    def outputs(self) -> dict[str, Any]:
        result = self.run("output", "output", "-json")
        return {key: value.get("value") for key, value in json.loads(result.stdout or "{}").items()}

    def __enter__(self) -> TerraformWorkspace:
        return self.prepare()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


# A Unix socket path holds at most 107 bytes; go-plugin adds "/plugin" and ten digits.
_SOCKET_DIR_MAX = 90


def _private_tmpdir(base: Path) -> Path:
    """TMPDIR for one terraform command: inside the workspace, or (a deep workspace, where the
    provider's socket path would be too long to bind) a short folder of its own in /tmp."""
    inside = base / ".tmp"
    if len(str(inside)) <= _SOCKET_DIR_MAX or not Path("/tmp").is_dir():
        inside.mkdir(parents=True, exist_ok=True)
        return inside
    return Path(tempfile.mkdtemp(prefix="catalog-tfsock-", dir="/tmp"))


def plugin_dir_problem() -> str | None:
    """What is wrong with CATALOG_TF_PLUGIN_DIR, if set (None: unset or usable)."""
    plugin_dir = os.environ.get(PLUGIN_DIR_ENV)
    if plugin_dir is None:
        return None
    if not plugin_dir.strip():
        return f"{PLUGIN_DIR_ENV} is set but empty: unset it or name the provider mirror"
    if not Path(plugin_dir, "registry.terraform.io").is_dir():
        return (
            f"{PLUGIN_DIR_ENV}={plugin_dir} holds no registry.terraform.io folder "
            "(name the folder that contains it)"
        )
    if not any(Path(plugin_dir, "registry.terraform.io", "hashicorp", "aws").glob("*")):
        return f"{PLUGIN_DIR_ENV}={plugin_dir} holds no hashicorp/aws provider"
    return None


def plugin_dir_args() -> list[str]:
    """`-plugin-dir=...` for `terraform init` when a provider mirror is configured (offline)."""
    problem = plugin_dir_problem()
    if problem:
        raise TerraformMissing(problem)
    plugin_dir = os.environ.get(PLUGIN_DIR_ENV)
    return [f"-plugin-dir={plugin_dir}"] if plugin_dir else []


def local_override(region: str) -> str:
    """The provider settings for the embedded AWS; its endpoint comes from AWS_ENDPOINT_URL."""
    return f"""# Written by the catalog runner for the embedded AWS; never part of the pattern.
# Every service's endpoint is the embedded AWS, through AWS_ENDPOINT_URL in the environment.
provider "aws" {{
  region                      = "{region}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  # The emulator answers 500 for calls it does not implement; default retries would hang for minutes.
  max_retries = 2
}}
"""


# ---------------------------------------------------------------- adaptations
def _mirror_aws_version() -> str | None:
    plugin_dir = os.environ.get(PLUGIN_DIR_ENV)
    if not plugin_dir:
        return None
    versions = sorted(Path(plugin_dir, "registry.terraform.io", "hashicorp", "aws").glob("*"))
    return versions[-1].name if versions else None


_DURABLE_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)(dynamic\s+\"durable_config\"|durable_config)\s*\{", re.MULTILINE
)
_AWS_VERSION = re.compile(
    r'(?P<head>aws\s*=\s*\{[^}]*?version\s*=\s*)"(?P<constraint>[^"]+)"', re.DOTALL
)


def adapt_for_local_provider(base: Path) -> list[Change]:
    """Make a temporary copy plan with the provider that exists offline (5.100.0), and say how.

    Only what that provider lacks is touched: `durable_config` blocks (added in the 6.x line; the
    emulator drops DurableConfig anyway) are removed, and an aws version constraint that excludes
    the mirror's version is relaxed to it. Everything else is applied as written.
    """
    mirror = _mirror_aws_version()
    changes: list[Change] = []
    for path in sorted(base.rglob("*.tf")):
        text = original = path.read_text()
        rel = path.relative_to(base).as_posix()
        while (match := _DURABLE_BLOCK.search(text)) is not None:
            end = _block_end(text, match.end() - 1)
            line = text.count("\n", 0, match.start()) + 1
            removed = text[match.start() : end]
            changes.append(
                Change(
                    rel,
                    line,
                    removed.splitlines()[0],
                    "(block removed: provider 5.x has no durable_config)",
                )
            )
            text = text[: match.start()] + text[end:].lstrip("\n")
        if mirror and mirror.split(".")[0] != "6":
            for match in _AWS_VERSION.finditer(text):
                constraint = match.group("constraint")
                if re.search(r"(>=|~>)\s*6", constraint):
                    line = text.count("\n", 0, match.start("constraint")) + 1
                    changes.append(
                        Change(rel, line, f'version = "{constraint}"', f'version = ">= {mirror}"')
                    )
            text = _AWS_VERSION.sub(
                lambda m: (
                    f'{m.group("head")}">= {mirror}"'
                    if re.search(r"(>=|~>)\s*6", m.group("constraint"))
                    else m.group(0)
                ),
                text,
            )
        if text != original:
            path.write_text(text)
    return changes


def _block_end(text: str, open_brace: int) -> int:
    depth = 0
    for index in range(open_brace, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)
