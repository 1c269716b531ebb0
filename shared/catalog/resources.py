"""One engine-neutral resource model, so every policy is written once for every engine.

Kinds are Terraform type names (`aws_lambda_function`); Pulumi type tokens map onto them
(`aws:cloudwatch/logGroup:LogGroup` -> `aws_cloudwatch_log_group`). Properties are snake_case;
nested blocks are read through `prop()`, which accepts Terraform's one-element lists and Pulumi's
objects alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines.mock_values import kind_from_pulumi_type, snake_keys
from .engines.mock_values import snake as snake  # re-exported: the review reads names with it

# Pulumi names a few arguments differently from the Terraform provider.
_PULUMI_ALIASES = {
    ("aws_lambda_function", "name"): "function_name",
    ("aws_lambda_permission", "function"): "function_name",
}
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")
_HCL_REFERENCE = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


@dataclass
class Resource:
    engine: str  # terraform | terraform-hcl | pulumi | cloudformation
    kind: str
    address: str
    props: dict[str, Any]
    refs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # attribute -> addresses
    options: dict[str, bool] = field(
        default_factory=dict
    )  # protect, retain_on_delete, prevent_destroy
    file: Path | None = None
    line: int | None = None
    # Addresses of the resources this one waits for when created (direct dependencies: explicit
    # depends_on and references; through Terraform data sources, what they reference).
    depends_on: tuple[str, ...] = ()

    def prop(self, *path: str) -> Any:
        value: Any = self.props
        for key in path:
            if isinstance(value, list):
                value = value[0] if len(value) == 1 else None
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
            return value[0]
        return value

    def references(self, attribute: str) -> tuple[str, ...]:
        return self.refs.get(attribute, ())


# ---------------------------------------------------------------- Pulumi
def from_pulumi_graph(recorded: Iterable[Any]) -> list[Resource]:
    """From `catalog.engines.pulumi_graph.record_program` output (components are skipped)."""
    resources = []
    for item in recorded:
        kind = kind_from_pulumi_type(item.type)
        if kind is None or not item.custom:
            continue
        props = snake_keys(dict(item.inputs))
        for (alias_kind, src), dst in _PULUMI_ALIASES.items():
            if alias_kind == kind and src in props:
                props.setdefault(dst, props[src])
        resources.append(
            Resource(
                engine="pulumi",
                kind=kind,
                address=item.urn,
                props=props,
                options={
                    "protect": bool(item.protect),
                    "retain_on_delete": bool(item.retain_on_delete),
                },
                depends_on=tuple(item.dependencies),
            )
        )
    return resources


# ---------------------------------------------------------------- Terraform plan JSON
def from_terraform_plan(plan: Mapping[str, Any], hcl: Iterable[Resource] = ()) -> list[Resource]:
    """From `terraform show -json <plan>`; `hcl` (from `from_hcl`) adds what plan JSON omits.

    `prevent_destroy` appears in no Terraform JSON output, so it is taken from the HCL by
    configuration address (module path and type.name, instance keys removed).
    """
    root_module = plan.get("configuration", {}).get("root_module", {})
    config_refs = dict(_configuration_refs(root_module, ""))
    config_dependencies = dict(_configuration_dependencies(root_module, ""))
    hcl_by_address = {r.address: r for r in hcl}
    resources = []
    for change in plan.get("resource_changes", []):
        if change.get("mode") != "managed" or "delete" in change.get("change", {}).get(
            "actions", []
        ):
            continue
        address = change["address"]
        module_prefix = _strip_tail_key(address, change)
        key = _INSTANCE_KEY.sub("", address)
        refs = {
            attr: tuple(_resolve(ref, module_prefix) for ref in targets)
            for attr, targets in config_refs.get(key, {}).items()
        }
        hcl_resource = hcl_by_address.get(key)
        config_prefix = key[: len(key) - len(f"{change['type']}.{change['name']}")]
        dependencies = _through_data_sources(config_dependencies, config_prefix, key)
        resources.append(
            Resource(
                engine="terraform",
                kind=change["type"],
                address=address,
                props=dict(change.get("change", {}).get("after") or {}),
                refs=refs,
                options={
                    "prevent_destroy": bool(
                        hcl_resource and hcl_resource.options.get("prevent_destroy")
                    )
                },
                file=hcl_resource.file if hcl_resource else None,
                line=hcl_resource.line if hcl_resource else None,
                depends_on=tuple(f"{module_prefix}{d}" for d in dependencies),
            )
        )
    return resources


def _strip_tail_key(address: str, change: Mapping[str, Any]) -> str:
    """`module.fn["a"].aws_x.this["k"]` -> `module.fn["a"].` (the module instance path)."""
    tail = f"{change['type']}.{change['name']}"
    index = address.rfind(tail)
    return address[:index] if index >= 0 else ""


def _resolve(reference: str, module_prefix: str) -> str:
    parts = reference.split(".")
    # "aws_x.name.attr" -> "aws_x.name"; "module.m.output" stays a module reference.
    base = ".".join(parts[:2]) if parts[0].startswith("aws_") else reference
    return f"{module_prefix}{base}"


def _configuration_refs(
    module: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, dict[str, tuple[str, ...]]]]:
    for resource in module.get("resources", []):
        refs = {
            attr: tuple(sorted(set(_collect_references(expr))))
            for attr, expr in resource.get("expressions", {}).items()
        }
        yield f"{prefix}{resource['address']}", refs
    for name, call in module.get("module_calls", {}).items():
        yield from _configuration_refs(call.get("module", {}), f"{prefix}module.{name}.")


def _configuration_dependencies(
    module: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Per configuration address: what it waits for (`depends_on` and every reference), as
    addresses relative to its module (`aws_x.name`, `data.aws_x.name`, `module.name`)."""
    for resource in module.get("resources", []):
        targets = set(resource.get("depends_on", []))
        targets.update(_collect_references(resource.get("expressions", {})))
        found = {d for t in targets if (d := _dependency(t)) is not None}
        yield f"{prefix}{resource['address']}", tuple(sorted(found))
    for name, call in module.get("module_calls", {}).items():
        yield from _configuration_dependencies(call.get("module", {}), f"{prefix}module.{name}.")


def _dependency(reference: str) -> str | None:
    """`aws_x.y.attr` -> `aws_x.y`, `data.aws_x.y.json` -> `data.aws_x.y`, `module.m.out` ->
    `module.m`; variables, locals, `each`, `path`... are no resources: None."""
    parts = _INSTANCE_KEY.sub("", reference).split(".")
    if parts[0] == "data" and len(parts) >= 3:
        return ".".join(parts[:3])
    if parts[0] == "module" and len(parts) >= 2:
        return ".".join(parts[:2])
    if parts[0].startswith("aws_") and len(parts) >= 2:
        return ".".join(parts[:2])
    return None


def _through_data_sources(
    dependencies: Mapping[str, tuple[str, ...]], config_prefix: str, key: str
) -> list[str]:
    """The resources `key` waits for, with each data source replaced by what it waits for."""
    found: set[str] = set()
    pending, seen = list(dependencies.get(key, ())), set()
    while pending:
        target = pending.pop()
        if target in seen:
            continue
        seen.add(target)
        if target.startswith("data."):
            pending.extend(dependencies.get(f"{config_prefix}{target}", ()))
        else:
            found.add(target)
    return sorted(found)


def _collect_references(expr: Any) -> Iterator[str]:
    if isinstance(expr, Mapping):
        for key, value in expr.items():
            if key == "references" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _collect_references(value)
    elif isinstance(expr, list):
        for value in expr:
            yield from _collect_references(value)


# ---------------------------------------------------------------- Terraform mock state
MOCK_POLICY_ID = "catalog-mock:"
# `terraform_data` records of blocks the offline provider cannot take (written into the mock
# evaluation's workspace by `engines.terraform.adapt_for_local_provider`); input: the resource
# address in its module, the block type, and the block's content as Terraform evaluated it.
RECORD_PREFIX = "catalog_removed_"


def _removed_block(item: Mapping[str, Any]) -> tuple[str, str, Any] | None:
    """(address of the resource, block type, evaluated blocks) of such a record, else None."""
    address = str(item.get("address", ""))
    if item.get("type") != "terraform_data" or f".{RECORD_PREFIX}" not in f".{item.get('name')}":
        return None
    record = (item.get("values") or {}).get("input") or {}
    module, _, tail = address.rpartition("terraform_data.")
    instance = tail[tail.index("[") :] if "[" in tail else ""
    return (
        f"{module}{record.get('resource')}{instance}",
        str(record.get("block")),
        record.get("value"),
    )


def from_terraform_state(state: Mapping[str, Any], hcl: Iterable[Resource] = ()) -> list[Resource]:
    """From the state of a mocked evaluation (`TerraformWorkspace.mock_state`): managed resources.

    Values are fully known. Each IAM policy document's mocked `json` is a marker naming the
    document; it is replaced by the document rendered from its statements, so a role policy holds
    the policy Terraform would send. A block the offline provider cannot take comes back from its
    record (`RECORD_PREFIX`) into its resource's values. `hcl` adds `prevent_destroy`, as in
    `from_terraform_plan`.
    """
    hcl_by_address = {r.address: r for r in hcl}
    managed, documents, removed = [], {}, {}
    for item in _state_resources(state.get("root_module") or {}):
        if item.get("mode") == "data":
            if item.get("type") == "aws_iam_policy_document":
                documents[item["address"]] = _render_policy(item.get("values") or {})
            continue
        record = _removed_block(item)
        if record is not None:
            address, block, value = record
            removed.setdefault(address, {})[block] = value
            continue
        managed.append(item)
    return [
        Resource(
            engine="terraform",
            kind=item["type"],
            address=item["address"],
            props=_with_documents(
                {**(item.get("values") or {}), **removed.get(item["address"], {})}, documents
            ),
            options={
                "prevent_destroy": bool(
                    hcl_resource and hcl_resource.options.get("prevent_destroy")
                )
            },
            file=hcl_resource.file if hcl_resource else None,
            line=hcl_resource.line if hcl_resource else None,
        )
        for item in managed
        for hcl_resource in [hcl_by_address.get(_INSTANCE_KEY.sub("", item["address"]))]
    ]


def _state_resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _state_resources(child)


def _render_policy(values: Mapping[str, Any]) -> str:
    statements = []
    for statement in values.get("statement") or []:
        rendered: dict[str, Any] = {"Effect": statement.get("effect") or "Allow"}
        if statement.get("sid"):
            rendered["Sid"] = statement["sid"]
        for key, name in (("actions", "Action"), ("resources", "Resource")):
            if statement.get(key):
                rendered[name] = sorted(statement[key])
        principals: dict[str, list[str]] = {}
        for principal in statement.get("principals") or []:
            principals.setdefault(principal["type"], []).extend(principal["identifiers"])
        if principals:
            rendered["Principal"] = principals
        conditions: dict[str, dict[str, list[str]]] = {}
        for condition in statement.get("condition") or []:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = condition[
                "values"
            ]
        if conditions:
            rendered["Condition"] = conditions
        statements.append(rendered)
    return json.dumps({"Version": values.get("version") or "2012-10-17", "Statement": statements})


def _with_documents(value: Any, documents: Mapping[str, str]) -> Any:
    if isinstance(value, str) and MOCK_POLICY_ID in value:
        try:
            marker = json.loads(value).get("Id", "")
        except (ValueError, AttributeError):
            return value
        return documents.get(marker.removeprefix(MOCK_POLICY_ID), value)
    if isinstance(value, Mapping):
        return {k: _with_documents(v, documents) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_documents(v, documents) for v in value]
    return value


# ---------------------------------------------------------------- Terraform HCL
def from_hcl(
    root: Path, *, follow_modules: bool = True, parse: Callable[[str], Any] | None = None
) -> list[Resource]:
    """Resources as written in a Terraform folder; local modules are followed (address prefixed).

    Values keep HCL expressions as strings (`"${aws_x.y.name}"`); references are extracted from
    them. This is what the removal checks read, because `prevent_destroy` lives only here.
    """
    if parse is None:
        import hcl2  # local import: only the Terraform paths need the parser

        parse = hcl2.loads
    return list(_hcl_resources(root.resolve(), "", follow_modules, set(), parse))


def _hcl_resources(
    directory: Path, prefix: str, follow: bool, seen: set[Path], parse: Callable[[str], Any]
) -> Iterator[Resource]:
    if directory in seen:
        return
    seen.add(directory)
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text()
        try:
            document = parse(text)
        except Exception as exc:  # python-hcl2 raises lark errors of several types
            raise HclError(f"{path}: cannot parse HCL ({type(exc).__name__}: {exc})") from exc
        for block in document.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    kind, name = _unquote(kind), _unquote(name)
                    body = body if isinstance(body, Mapping) else {}
                    yield Resource(
                        engine="terraform-hcl",
                        kind=kind,
                        address=f"{prefix}{kind}.{name}",
                        props={k: v for k, v in body.items() if k not in ("lifecycle",)},
                        refs=(refs := _hcl_refs(body, prefix)),
                        options={"prevent_destroy": _prevent_destroy(body)},
                        file=path,
                        line=block_line(text, kind, name),
                        # depends_on is an attribute of the body: its targets are among the refs
                        depends_on=tuple(sorted({a for found in refs.values() for a in found})),
                    )
        if follow:
            for block in document.get("module", []):
                for name, body in block.items():
                    source = (
                        _unquote(str(body.get("source", ""))) if isinstance(body, Mapping) else ""
                    )
                    if source.startswith("."):
                        yield from _hcl_resources(
                            (directory / source).resolve(),
                            f"{prefix}module.{_unquote(name)}.",
                            follow,
                            seen.copy(),
                            parse,
                        )


def output_names(root: Path) -> set[str]:
    """The outputs a Terraform folder declares, whichever of its .tf files (a root's own, or one
    it links from terraform/pattern-root/) declares them."""
    import hcl2  # local import: only the Terraform paths need the parser

    return {
        _unquote(name)
        for path in sorted(root.glob("*.tf"))
        for block in hcl2.loads(path.read_text()).get("output", [])
        for name in block
    }


class HclError(Exception):
    """A Terraform file that python-hcl2 cannot parse."""


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _prevent_destroy(body: Mapping[str, Any]) -> bool:
    lifecycle = body.get("lifecycle") or []
    blocks = lifecycle if isinstance(lifecycle, list) else [lifecycle]
    return any(
        isinstance(b, Mapping) and str(b.get("prevent_destroy")).lower() == "true" for b in blocks
    )


def _hcl_refs(body: Mapping[str, Any], prefix: str) -> dict[str, tuple[str, ...]]:
    refs = {}
    for attr, value in body.items():
        found = sorted(
            {f"{prefix}{m.group(1)}.{m.group(2)}" for m in _HCL_REFERENCE.finditer(str(value))}
        )
        if found:
            refs[attr] = tuple(found)
    return refs


def block_line(text: str, kind: str, name: str) -> int | None:
    # [ \t]*, not \s*: \s would also match the newline before the block and land a line early.
    match = re.search(
        rf'^[ \t]*resource\s+"{re.escape(kind)}"\s+"{re.escape(name)}"', text, re.MULTILINE
    )
    return text.count("\n", 0, match.start()) + 1 if match else None
