"""Run a Pulumi program under mocks and record its full resource graph, options included.

No Pulumi CLI, no engine, no cloud: the program runs in this process the way the Python language
host runs it (`runpy.run_path(<program dir>)` inside a root stack, working directory = the
program), against a mock resource monitor that records every `RegisterResource` request. That
request carries what `Mocks.new_resource` never sees: protect, retainOnDelete, parent,
dependencies, deleteBeforeReplace.

Every run is isolated, so `record_program` can be called repeatedly in one process (a pattern,
then a deliberately broken copy of it): Pulumi's runtime state lives in context variables and the
run gets a fresh context in a thread and event loop of its own; modules imported from the program
folder are dropped afterwards (and names the folder provides are hidden from the cache
beforehand), so a copy in a temporary folder runs its own code. The catalog packages and the SDKs
stay shared with the caller, like any installed library: a program imports them as its
requirements.txt installs them and never edits sys.path (the runner puts the program folder first
on it for the run, as the language host does, and restores it).

Computed attributes (ARNs, ids) come from `mock_values`, the same ones Terraform's mock evaluation
gets, so parity compares references literally.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import os
import runpy
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings, stack
from pulumi.runtime.sync_await import _sync_await

try:
    from . import mock_values
except ImportError:  # loaded as a file of its own (an exported pattern's tests): its sibling file
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "pulumi_graph_mock_values", Path(__file__).with_name("mock_values.py")
    )
    assert _spec is not None and _spec.loader is not None
    mock_values = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(mock_values)

STACK_TYPE = "pulumi:pulumi:Stack"
ACCOUNT_ID = mock_values.ACCOUNT_ID
REGION = mock_values.REGION
_T = TypeVar("_T")


@dataclass(frozen=True)
class RecordedResource:
    """One `RegisterResource` request, as the engine would receive it."""

    type: str  # e.g. "aws:lambda/function:Function" or "catalog:aws:PythonFunction"
    name: str  # logical name
    urn: str
    parent: str | None  # parent URN; None for a child of the root stack
    custom: bool  # False for components
    inputs: dict[str, Any]  # camelCase keys, outputs resolved, plain values (see plain_properties)
    protect: bool  # effective: an unset value is inherited from the parent, as the engine does
    retain_on_delete: bool  # effective, inherited the same way (pulumi/pulumi#19654)
    dependencies: tuple[str, ...]  # URNs, sorted
    delete_before_replace: bool


@dataclass(frozen=True)
class ProgramRun:
    """Everything one run produced: the resources (sorted by URN) and the stack outputs."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    seconds: float

    def of_type(self, token: str) -> list[RecordedResource]:
        """The resources of one type token, e.g. "aws:lambda/function:Function"."""
        return [r for r in self.resources if r.type == token]

    def by_name(self, token: str) -> dict[str, RecordedResource]:
        """The resources of one type token by logical name."""
        return {r.name: r for r in self.of_type(token)}


def record_program(
    program_dir: Path,
    config: Mapping[str, str] | None = None,
    project: str | None = None,
    stack: str = "test",
) -> list[RecordedResource]:
    """Run the program in `program_dir` under mocks; every resource it registers, sorted by URN.

    `config` keys are "key" (the project's namespace) or "namespace:key"; values are strings, as
    the CLI passes them. Defaults declared in Pulumi.yaml (`config:`) apply first. `project`
    defaults to the name in Pulumi.yaml. An exception raised by the program propagates unchanged.
    """
    return run_program(program_dir, config, project, stack).resources


def run_program(
    program_dir: Path,
    config: Mapping[str, str] | None = None,
    project: str | None = None,
    stack: str = "test",
) -> ProgramRun:
    """Like `record_program`, plus the stack outputs (`pulumi.export`) and the run time."""
    program_dir = Path(program_dir).resolve()
    if not (program_dir / "__main__.py").is_file():
        raise FileNotFoundError(f"{program_dir}: no __main__.py (a Pulumi Python program folder)")
    project_file = _read_project_file(program_dir)
    project = project or str(project_file.get("name") or program_dir.name)
    values = _project_config(project, project_file.get("config"))
    for key, value in (config or {}).items():
        values[key if ":" in key else f"{project}:{key}"] = str(value)

    started = time.perf_counter()
    with _program_modules(program_dir), _working_directory(program_dir):
        resources, outputs = _in_fresh_thread(
            lambda: _run(program_dir, values, project, stack),
        )
    return ProgramRun(resources, outputs, time.perf_counter() - started)


# ------------------------------------------------------------------ the run itself
def _run(
    program_dir: Path, config: dict[str, str], project: str, stack_name: str
) -> tuple[list[RecordedResource], dict[str, Any]]:
    """Runs in a fresh thread (fresh contextvars, own event loop): nothing leaks to the caller."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(CatalogMocks())
    try:
        pulumi_config.set_all_config(config, [])
        settings.set_root_resource(None)  # type: ignore[arg-type]
        settings.configure(
            pulumi_mocks.MockSettings(
                monitor=monitor,
                monitor_features=set(),  # loaded by run_in_stack from GetDeploymentInfo
                engine=pulumi_mocks.MockEngine(None),
                project=project,
                stack=stack_name,
                root_directory=str(program_dir),
                organization="organization",
                dry_run=False,  # an update: every output is known
                legacy_apply_enabled=False,
                parallel=None,
                outputs=set(),
                lock=threading.Lock(),
                package_refs={},
                base_providers_by_ref={},
                callbacks=None,
            )
        )
        # What the language host does: the program folder is the program.
        _sync_await(
            stack.run_in_stack(lambda: runpy.run_path(str(program_dir), run_name="__main__"))
        )
    except BaseException as error:
        error.add_note(f"while running the Pulumi program in {program_dir} under mocks")
        raise
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
    return monitor.recorded(), monitor.stack_outputs


def _in_fresh_thread(fn: Callable[[], _T]) -> _T:
    """A new thread starts with an empty context: Pulumi's context variables at their defaults."""
    result: list[_T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(contextvars.Context().run(fn))
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)

    worker = threading.Thread(target=target, name="pulumi-graph", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


# ------------------------------------------------------------------ wire values
def plain_properties(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A property Struct as plain, comparable Python values (equal programs give equal dicts).

    Whole numbers become int (the wire has only doubles); secrets are unwrapped; an asset or
    archive becomes {"kind": "FileArchive", "path": ...} (FileAsset, StringAsset "text",
    Remote* "uri", AssetArchive "assets"); a resource reference {"kind": "Resource", "urn", "id"}.
    """
    return _plain(json_format.MessageToDict(struct))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    signature = value.get(rpc._special_sig_key)
    if signature is None:
        return {k: _plain(v) for k, v in value.items()}
    if signature in (rpc._special_secret_sig, rpc._special_output_value_sig):
        return _plain(value.get("value"))
    if signature == rpc._special_resource_sig:
        return {"kind": "Resource", "urn": value.get("urn"), "id": value.get("id")}
    archive = signature == rpc._special_archive_sig
    for field_name, kind in (("path", "File"), ("text", "String"), ("uri", "Remote")):
        if field_name in value:
            return {
                "kind": f"{kind}{'Archive' if archive else 'Asset'}",
                field_name: value[field_name],
            }
    if "assets" in value:
        return {"kind": "AssetArchive", "assets": _plain(value["assets"])}
    return {k: _plain(v) for k, v in value.items() if k != rpc._special_sig_key}


# ------------------------------------------------------------------ monitor and mocks
class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, recording each registration with its resource options."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self._raw: dict[str, dict[str, Any]] = {}
        self._stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine forms them: the full qualified parent type, never the root stack."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return f"urn:pulumi:{settings.get_stack()}::{settings.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            self._stack_urn = response.urn
            return response
        inputs = plain_properties(request.object)
        record = {
            "type": request.type,
            "name": request.name,
            "urn": response.urn,
            "parent": request.parent or None,
            "custom": bool(request.custom),
            "inputs": inputs,
            # proto3 optional: unset means "not given", which the engine fills from the parent.
            "protect": request.protect if request.HasField("protect") else None,
            "retain_on_delete": (
                request.retainOnDelete if request.HasField("retainOnDelete") else None
            ),
            "dependencies": tuple(sorted(set(request.dependencies))),
            "delete_before_replace": bool(request.deleteBeforeReplace),
        }
        with self._lock:
            self._raw[response.urn] = record
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn and request.urn == self._stack_urn:
            self.stack_outputs = plain_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def recorded(self) -> list[RecordedResource]:
        with self._lock:
            raw = dict(self._raw)

        def effective(urn: str | None, option: str) -> bool:
            while urn is not None and urn in raw:
                value = raw[urn][option]
                if value is not None:
                    return bool(value)
                urn = raw[urn]["parent"]
            return False

        resources = []
        for urn, record in sorted(raw.items()):
            parent = record["parent"] if record["parent"] != self._stack_urn else None
            resources.append(
                RecordedResource(
                    **{
                        **record,
                        "parent": parent,
                        "protect": effective(urn, "protect"),
                        "retain_on_delete": effective(urn, "retain_on_delete"),
                    }
                )
            )
        return resources


class CatalogMocks(pulumi_mocks.Mocks):
    """Outputs shaped like the AWS provider's, so ARNs and names flow into dependents."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if not args.custom:
            return "", {}
        if not args.typ.startswith("aws:"):
            return f"{args.name}-id", dict(args.inputs)
        return _aws_resource(args.typ, args.name, dict(args.inputs))

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        # (result, failures): pulumi 3.272 iterates the failures, so never None.
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{ACCOUNT_ID}:user/catalog"
            return {
                "accountId": ACCOUNT_ID,
                "arn": arn,
                "id": ACCOUNT_ID,
                "userId": "AIDAMOCK",
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": REGION, "name": REGION, "region": REGION}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}, []
        return {}, []


def _aws_resource(token: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Computed attributes from `mock_values`, the same ones Terraform's mock evaluation gets."""
    kind = mock_values.kind_from_pulumi_type(token) or token
    physical = inputs.get("name") or _auto_name(inputs.get("namePrefix"), token, name)
    values = mock_values.computed(kind, mock_values.snake_keys(inputs), physical)
    state: dict[str, Any] = {**inputs, "name": physical}
    state.update({_camel(key): value for key, value in values.items() if key != "id"})
    return values["id"], state


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _auto_name(name_prefix: Any, token: str, logical: str) -> str:
    """Deterministic stand-in for provider auto-naming (`<prefix or logical name>-<7 hex>`)."""
    suffix = hashlib.sha1(f"{token}::{logical}".encode()).hexdigest()[:7]
    return f"{name_prefix}{suffix}" if name_prefix else f"{logical}-{suffix}"


# ------------------------------------------------------------------ project file and config
def _read_project_file(program_dir: Path) -> dict[str, Any]:
    for filename in ("Pulumi.yaml", "Pulumi.yml"):
        path = program_dir / filename
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping")
            return data
    return {}


def _project_config(project: str, declared: Any) -> dict[str, str]:
    """Values and defaults declared in Pulumi.yaml's `config:` block, as the CLI applies them."""
    values: dict[str, str] = {}
    for key, spec in (declared or {}).items():
        value = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value)
        else:
            text = str(value)
        values[key if ":" in key else f"{project}:{key}"] = text
    return values


# ------------------------------------------------------------------ process-wide state
@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@contextmanager
def _program_modules(program_dir: Path) -> Iterator[None]:
    """The program imports its own modules fresh, and leaves none behind in sys.modules."""
    local = {
        p.stem if p.suffix == ".py" else p.name
        for p in program_dir.iterdir()
        if (p.suffix == ".py" and p.stem != "__main__") or (p / "__init__.py").is_file()
    }
    hidden = {n: m for n, m in sys.modules.items() if n.split(".")[0] in local}
    for module_name in hidden:
        del sys.modules[module_name]
    saved_path = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for module_name, module in list(sys.modules.items()):
            if module_name.split(".")[0] in local or _is_under(module, program_dir):
                sys.modules.pop(module_name, None)
        sys.modules.update(hidden)


def _is_under(module: ModuleType | None, folder: Path) -> bool:
    filename = getattr(module, "__file__", None)
    if not filename:
        return False
    try:
        relative = Path(filename).resolve().relative_to(folder)
    except ValueError:
        return False
    return "site-packages" not in relative.parts
