"""Terraform runs in temporary workspaces, against the embedded AWS or real AWS.

A workspace is a copy of the pattern (its Terraform root and the files the root reads) plus the
shared modules, laid out as in the repository so relative module sources still resolve; a folder
`catalog export` wrote is copied alone (its modules are vendored inside it). For the
embedded AWS the runner adds one override file with the endpoints and the offline provider settings;
the pattern's own files stay usable against real AWS unchanged. State never lands in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import interrupts
from ..patterns import REPO_ROOT, Pattern
from ..resources import MOCK_POLICY_ID, RECORD_PREFIX
from ..settings import KINDS, mock_arguments
from . import mock_values, terraform_init
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
# Deliberately changed copies of the root, planned beside it (`TerraformWorkspace.add_variant`).
VARIANTS_FILE = "catalog_variants.tf.json"
VARIANT_MODULE_PREFIX = "catalog_variant_"
MOCK_TEST_FILE = "catalog_mock_model.tftest.hcl"
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


class WorkspaceRemoved(RuntimeError):
    """A temporary workspace was used after `cleanup()` removed it (a bug in the caller)."""


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
    # Evaluated under mock_provider only (`mock_state`): adapted for the offline provider like a
    # local run, with no endpoint at all.
    mock_provider: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # Per phase, Terraform's own time from its machine-readable log (see terraform_log).
    terraform_timings: dict[str, float] = field(default_factory=dict)
    # Per phase and resource address, the provider's time for that resource.
    resource_timings: dict[str, dict[str, float]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    _temp: Path | None = None
    # cleanup() removed the temporary folder: the workspace is finished, and never makes another.
    _removed: bool = False

    def __post_init__(self) -> None:
        if self.aws is None and not self.mock_provider and self.directory is None:
            # Its state is the only record of what it creates in a real account: never temporary.
            raise ValueError(f"a real-AWS workspace of {self.pattern.name} needs a kept directory")

    # ------------------------------------------------------------ layout
    @property
    def root(self) -> Path:
        return self.base / "patterns" / self.pattern.name / "terraform"

    @property
    def base(self) -> Path:
        """The workspace folder: the kept directory, or a temporary one made on first use."""
        if self.directory is not None:
            return self.directory
        if self._removed:
            raise WorkspaceRemoved(
                f"the temporary Terraform workspace of {self.pattern.name} was used after cleanup()"
            )
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
        if not self.pattern.exported:  # an export has its modules inside: it gets nothing else
            shutil.copytree(
                REPO_ROOT / "terraform",
                self.base / "terraform",
                ignore=_COPY_IGNORE,
                dirs_exist_ok=True,
            )
        if self.aws is not None:
            (self.root / OVERRIDE_FILE).write_text(local_override(self.aws.region))
        if self.aws is not None or self.mock_provider:
            self.changes = adapt_for_local_provider(self.base, record_removed=self.mock_provider)
            if self.changes and self.echo:
                self.echo(
                    "adapted the temporary copy for the local provider (the pattern is unchanged):"
                )
                for change in self.changes:
                    self.echo(f"  {change}")
        return self

    def add_variant(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        edit: Callable[[TerraformWorkspace], None] | None = None,
    ) -> str:
        """Another copy of the pattern and shared modules, changed by `edit` (a workspace of
        its own under `variants/<name>`, adapted like this one), called from the root as module
        `catalog_variant_<name>` with `variables`. One plan (one provider start) then covers the
        root and every variant; their resources are told apart by that module's address prefix,
        which is returned. The copy's own `provider` blocks are removed (python-hcl2): a module
        with one could not share the root's provider, and every extra provider is another start.
        """
        import hcl2  # local import: only variants need the parser

        variant = TerraformWorkspace(self.pattern, directory=self.base / "variants" / name)
        variant.prepare()
        if self.aws is not None or self.mock_provider:
            adapt_for_local_provider(variant.base, record_removed=self.mock_provider)
        if edit is not None:
            edit(variant)
        for path in sorted(variant.root.glob("*.tf")):
            document = hcl2.loads(path.read_text())
            if document.pop("provider", None) is not None:
                path.write_text(hcl2.dumps(document))
        calls_file = self.root / VARIANTS_FILE
        calls = json.loads(calls_file.read_text()) if calls_file.exists() else {"module": {}}
        arguments = {"artifacts_dir": str(self.pattern.build_dir), **(variables or {})}
        calls["module"][f"{VARIANT_MODULE_PREFIX}{name}"] = {
            "source": os.path.relpath(variant.root, self.root),
            # JSON strings are templates: escape template sequences in the values.
            **{k: _json_literal(v) for k, v in arguments.items()},
        }
        calls_file.write_text(json.dumps(calls, indent=2) + "\n")
        return f"module.{VARIANT_MODULE_PREFIX}{name}."

    def cleanup(self) -> None:
        """Remove a temporary workspace, state included (a kept directory stays); idempotent."""
        with interrupts.deferred():
            if self.directory is None:
                self._removed = True
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
        failures_before = self.aws.failures.count if self.aws is not None else 0
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
                + (self.aws.failures.summary(failures_before) if self.aws is not None else "")
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

    def validate(self) -> None:
        self.run("validate", "validate", "-no-color")

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

    def mock_state(self) -> dict[str, Any]:
        """The root evaluated by Terraform under `mock_provider`: every value known, no cloud.

        Terraform's own twin of Pulumi's mocks (`terraform test`, an in-memory apply). A first
        mocked apply lists the resources and data sources; the second gets each resource's
        computed attributes from `mock_values` (the ones the Pulumi mocks use) and each IAM policy
        document a marker naming it, which `resources.from_terraform_state` replaces with the
        document itself. Arguments parity compares stay null when unset (mocks would otherwise
        invent values).
        """
        listed = self._mock_apply(_mock_test("", _listing_defaults()))
        overrides = "\n".join(_mock_override(item) for item in _state_items(listed))
        return self._mock_apply(_mock_test(overrides))

    def _mock_apply(self, test: str) -> dict[str, Any]:
        test_file = self.root / MOCK_TEST_FILE
        test_file.write_text(test)
        try:
            result = self.run("mock", "test", "-no-color", "-json", "-verbose", ok_codes=(0, 1))
        finally:
            test_file.unlink(missing_ok=True)
        found, problems = None, []
        for line in result.stdout.splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("type") == "test_state":
                found = message["test_state"]
            elif message.get("@level") == "error":
                problems.append(message.get("@message", ""))
        if found is None or result.returncode != 0:
            detail = "; ".join(problems[-3:]) or error_summary(result.stderr)
            raise TerraformError(
                f"terraform test (mock_provider) failed for {self.pattern.name}: {detail}"
            )
        return found

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
        """Resources recorded in the local state (read from the file: no terraform needed). A
        workspace never made, or removed by cleanup(), records none (and is not made for this)."""
        if self.directory is None and self._temp is None:
            return []
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
        try:
            return self.prepare()
        except BaseException:
            self.cleanup()  # __exit__ does not run when __enter__ fails
            raise

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


def _json_literal(value: Any) -> Any:
    """A value for a `.tf.json` argument: strings escaped so Terraform reads no template."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [_json_literal(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json_literal(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- mock evaluation
def _hcl_string(value: str) -> str:
    # A JSON string is an HCL string once template sequences are escaped.
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def _mock_test(overrides: str, mock_resources: str = "") -> str:
    document = _hcl_string(policy_marker(""))
    return f"""# Written by the catalog runner (mock evaluation); never part of the pattern.
mock_provider "aws" {{
  mock_data "aws_partition" {{
    defaults = {{ partition = "{mock_values.PARTITION}", dns_suffix = "amazonaws.com", id = "{mock_values.PARTITION}" }}
  }}
  mock_data "aws_region" {{
    defaults = {{ name = "{mock_values.REGION}", id = "{mock_values.REGION}" }}
  }}
  mock_data "aws_caller_identity" {{
    defaults = {{ account_id = "{mock_values.ACCOUNT_ID}", id = "{mock_values.ACCOUNT_ID}" }}
  }}
  # A valid document for the listing run; the second run gets one marker per document.
  mock_data "aws_iam_policy_document" {{
    defaults = {{ json = {document}, minified_json = {document} }}
  }}
{mock_resources}
}}
{overrides}
run "model" {{
  command = apply
}}
"""


def _listing_defaults() -> str:
    """For the listing run: compared arguments null unless configured (mocks would invent
    values), and ARNs the provider's and the modules' validations accept."""
    arguments = mock_arguments()
    blocks = []
    for kind in sorted(set(arguments) | set(KINDS)):
        listing = mock_values.computed(kind, {}, "listing")
        defaults = [f"{a} = null" for a in arguments.get(kind, ())]
        defaults += [f"{k} = {_hcl_string(str(v))}" for k, v in listing.items() if k != "id"]
        blocks.append(
            f'  mock_resource "{kind}" {{\n    defaults = {{ {", ".join(defaults)} }}\n  }}'
        )
    return "\n".join(blocks)


def _state_items(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = []
    modules = [state.get("root_module") or {}]
    while modules:
        module = modules.pop()
        items.extend(module.get("resources", []))
        modules.extend(module.get("child_modules", []))
    return items


def policy_marker(address: str) -> str:
    """The mocked `json` of the policy document at `address` (a valid, empty IAM document)."""
    return json.dumps(
        {"Version": "2012-10-17", "Id": f"{MOCK_POLICY_ID}{address}", "Statement": []}
    )


def _mock_override(item: Mapping[str, Any]) -> str:
    """Computed values for one resource (`mock_values`), unset compared arguments kept null."""
    address, kind, values = item["address"], item["type"], item.get("values") or {}
    if item.get("mode") == "data":
        if kind != "aws_iam_policy_document":
            return ""
        marker = _hcl_string(policy_marker(address))
        return f"override_data {{\n  target = {address}\n  values = {{ json = {marker}, minified_json = {marker} }}\n}}"
    name = str(values.get("function_name" if kind == "aws_lambda_function" else "name") or address)
    assigned = {k: _hcl_string(str(v)) for k, v in mock_values.computed(kind, values, name).items()}
    # Left null by the listing run, so unconfigured: keep them so (an override drops defaults).
    assigned.update({a: "null" for a in mock_arguments().get(kind, ()) if values.get(a) is None})
    return f"override_resource {{\n  target = {address}\n  values = {{ {', '.join(f'{k} = {v}' for k, v in assigned.items())} }}\n}}"


# ---------------------------------------------------------------- adaptations
PROVIDER_OVERRIDE_FILE = "catalog_provider_override.tf"
# Block types of the AWS provider by the version that added them: a mirror older than that
# rejects them, even in a `dynamic` block with nothing to iterate ("Unsupported block type").
_BLOCKS_ADDED_IN = {"durable_config": (6, 25, 0)}


def _mirror_aws_version() -> str | None:
    plugin_dir = os.environ.get(PLUGIN_DIR_ENV)
    if not plugin_dir:
        return None
    versions = sorted(
        Path(plugin_dir, "registry.terraform.io", "hashicorp", "aws").glob("*"),
        key=lambda path: _version(path.name),
    )
    return versions[-1].name if versions else None


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.strip().lstrip("v").split("-", 1)[0].split("."):
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts)


def satisfies(version: str, constraint: str) -> bool:
    """Does `version` meet a Terraform version constraint (`>= 6.25, < 7.0`, `~> 6.32`)?"""
    have = _version(version)
    for clause in (c.strip() for c in constraint.split(",") if c.strip()):
        operator = next(
            (op for op in ("~>", ">=", "<=", "!=", ">", "<", "=") if clause.startswith(op)), "="
        )
        wanted = _version(clause.removeprefix(operator))
        width = max(len(have), len(wanted))
        mine, theirs = have + (0,) * (width - len(have)), wanted + (0,) * (width - len(wanted))
        if operator == "~>":
            # ~> 6.32 allows 6.x from 6.32; ~> 6.32.1 allows 6.32.x from 6.32.1.
            prefix = len(wanted) - 1 if len(wanted) > 1 else 1
            ok = mine >= theirs and have[:prefix] == wanted[:prefix]
        else:
            ok = {
                ">=": mine >= theirs, "<=": mine <= theirs, ">": mine > theirs,
                "<": mine < theirs, "!=": mine != theirs, "=": mine == theirs,
            }[operator]  # fmt: skip
        if not ok:
            return False
    return True


def adapt_for_local_provider(base: Path, *, record_removed: bool = False) -> list[Change]:
    """Make a temporary copy work with the provider in the offline mirror, and say how.

    Only what that provider cannot take is adapted, and never by editing text: an aws version
    constraint the mirror's version does not meet is replaced through a Terraform override file;
    blocks the provider does not know (`durable_config` before 6.25) are removed through
    python-hcl2 (parse, drop the block, write back), because override files cannot remove a
    nested block. Each change names every setting that is therefore not exercised locally.

    `record_removed` (the mock evaluation parity reads): each removed block's content is still
    evaluated by Terraform, into a `terraform_data` record next to its resource (read back by
    `resources.from_terraform_state`), so parity compares what Terraform would have sent.
    """
    mirror = _mirror_aws_version()
    if mirror is None:  # a registry: terraform init picks a provider the constraints allow
        return []
    import hcl2  # local import: only the local runs need the parser

    documents = {path: hcl2.loads(path.read_text()) for path in sorted(base.rglob("*.tf"))}
    changes: list[Change] = []
    for directory in sorted({path.parent for path in documents}):
        changes.extend(_relax_constraint(base, directory, documents, mirror))
    missing = [block for block, since in _BLOCKS_ADDED_IN.items() if _version(mirror) < since]
    for path, document in documents.items():
        removed = _drop_blocks(document, missing)
        if not removed:
            continue
        if record_removed:
            document.setdefault("resource", []).extend(_record_of(r) for r in removed)
        text_before = path.read_text()
        path.write_text(hcl2.dumps(document))
        rel = path.relative_to(base).as_posix()
        for item in removed:
            kind, _, name = item.address.partition(".")
            callers = _callers_setting(base, path.parent, item.block, documents)
            settings = ", ".join(f"{item.block}.{s}" for s in item.settings) or item.block
            changes.append(
                Change(
                    rel,
                    _resource_line(text_before, kind, name),
                    f"{item.written} block of {item.address}",
                    f"removed with python-hcl2 (hashicorp/aws {mirror} has no {item.block}); "
                    + (
                        f"not exercised locally: {settings} (set by {callers})"
                        if callers
                        else f"no module call sets {item.block}: nothing is lost"
                    ),
                )
            )
    return changes


def _relax_constraint(
    base: Path, directory: Path, documents: Mapping[Path, Any], mirror: str
) -> list[Change]:
    for path in sorted(p for p in documents if p.parent == directory):
        for terraform in documents[path].get("terraform", []):
            for providers in terraform.get("required_providers", []):
                aws = providers.get("aws")
                constraint = _unquote(aws.get("version", "")) if isinstance(aws, Mapping) else ""
                if constraint and not satisfies(mirror, constraint):
                    (directory / PROVIDER_OVERRIDE_FILE).write_text(_provider_override(mirror))
                    lines = path.read_text().splitlines()
                    line = next((i for i, t in enumerate(lines, 1) if constraint in t), 1)
                    return [
                        Change(
                            path.relative_to(base).as_posix(),
                            line,
                            f'hashicorp/aws version = "{constraint}"',
                            f'"{mirror}" through {PROVIDER_OVERRIDE_FILE} (the offline mirror '
                            "holds only that version)",
                        )
                    ]
    return []


def _provider_override(version: str) -> str:
    return f"""# Written by the catalog runner: the offline provider mirror holds hashicorp/aws {version} only.
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "{version}"
    }}
  }}
}}
"""


@dataclass(frozen=True)
class _Removed:
    """A nested block removed from a resource: as written (`dynamic "x"` or `x`), its content."""

    address: str  # type.name in its module
    block: str
    written: str
    content: Any  # the parsed block body (plain) or the parsed `dynamic` body
    meta: Mapping[str, Any]  # the resource's count / for_each, so a record has its instances

    @property
    def settings(self) -> list[str]:
        body = self.content.get("content", [{}]) if self.written != self.block else self.content
        first = body[0] if isinstance(body, list) and body else body
        return [k for k in first if not k.startswith("__")] if isinstance(first, Mapping) else []


def _drop_blocks(document: dict[str, Any], block_types: list[str]) -> list[_Removed]:
    """Remove nested blocks (plain or `dynamic`) of `block_types` from every resource."""
    removed = []
    for group in document.get("resource", []):
        for kind, named in group.items():
            for name, body in named.items():
                address = f"{_unquote(kind)}.{_unquote(name)}"
                meta = {k: body[k] for k in ("count", "for_each") if k in body}
                for block in block_types:
                    plain = body.pop(block, None)
                    if plain is not None:
                        removed.append(_Removed(address, block, block, plain, meta))
                    dynamic = body.get("dynamic") or []
                    kept = [d for d in dynamic if _unquote(next(iter(d), "")) != block]
                    for gone in (d for d in dynamic if d not in kept):
                        written = f'dynamic "{block}"'
                        removed.append(
                            _Removed(address, block, written, next(iter(gone.values())), meta)
                        )
                    if len(kept) != len(dynamic):
                        if kept:
                            body["dynamic"] = kept
                        else:
                            body.pop("dynamic")
    return removed


def _record_of(item: _Removed) -> dict[str, Any]:
    """A `terraform_data` resource whose input Terraform evaluates from the removed block: the
    same expressions, the same iteration (a `dynamic` block's iterator has key and value)."""
    if item.written == item.block:
        value = "[" + ", ".join(_expression(b) for b in _as_list(item.content)) + "]"
    else:
        iterator = _unquote(str(item.content.get("iterator", item.block)))
        for_each = _expression(item.content["for_each"])
        content = _expression(_as_list(item.content.get("content", [{}]))[0])
        pairs = f"[for key, value in ({for_each}) : {{key = key, value = value}}]"
        value = f"[for {iterator} in {pairs} : {content}]"
    resource = _hcl_string(item.address)
    body: dict[str, Any] = dict(item.meta)
    body["input"] = f'${{{{resource = {resource}, block = "{item.block}", value = {value}}}}}'
    body["__is_block__"] = True
    name = f"{RECORD_PREFIX}{item.block}_of_{item.address.replace('.', '_')}"
    return {'"terraform_data"': {f'"{name}"': body}}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _expression(value: Any) -> str:
    """A python-hcl2 parsed value as an HCL expression (strings keep their quotes there)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[2:-1] if value.startswith("${") and value.endswith("}") else value
    if isinstance(value, list):
        return "[" + ", ".join(_expression(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{k} = {_expression(v)}" for k, v in value.items() if not k.startswith("__"))
        return "{" + ", ".join(items) + "}"
    return json.dumps(value)


def _callers_setting(
    base: Path, module_dir: Path, argument: str, documents: Mapping[Path, Any]
) -> str:
    """`module.x durable_config = {...}` for each module call of `module_dir` that sets it."""
    found = []
    for path, document in documents.items():
        for group in document.get("module", []):
            for name, body in group.items():
                source = _unquote(str(body.get("source", "")))
                if (
                    not source.startswith(".")
                    or (path.parent / source).resolve() != module_dir.resolve()
                ):
                    continue
                if argument in body:
                    where = path.relative_to(base).as_posix()
                    value = _display(body[argument])
                    found.append(f"module.{_unquote(name)} {argument} = {value} ({where})")
    return "; ".join(found)


def _display(value: Any) -> str:
    """A parsed HCL value as HCL-like text, for a message."""
    if isinstance(value, Mapping):
        items = (f"{k} = {_display(v)}" for k, v in value.items() if not k.startswith("__"))
        return "{" + ", ".join(items) + "}"
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _resource_line(text: str, kind: str, name: str) -> int:
    from ..resources import block_line

    return block_line(text, kind, name) or 1
