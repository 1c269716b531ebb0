"""Pulumi Python programs -> `Resource` lists, read statically (no program run, no CLI).

`catalog.engines.pulumi_graph` runs a program under mocks for the full picture; a review of a
thousand folders cannot, so this adapter reads the `aws.*` resource calls and their options.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path, PurePosixPath
from typing import Any

from ...resources import Resource, snake
from ..context import JUNK_DIRS, PatternContext
from .constructs import Construct, Prop, py_constructs

_PULUMI_AWS = re.compile(r"^\s*(?:import pulumi_aws|from pulumi_aws\b)", re.MULTILINE)
_RENAMES = {"aws_s3_bucket_v2": "aws_s3_bucket"}


def program_files(ctx: PatternContext, folder: str) -> dict[str, str]:
    prefix = f"{folder}/" if folder else ""
    out = {}
    for rel in ctx.code_files(".py"):
        parts = PurePosixPath(rel).parts
        if rel.startswith(prefix) and not any(p in JUNK_DIRS for p in parts):
            text = ctx.read_text(rel)
            if text is not None and _PULUMI_AWS.search(text):
                out[rel] = text
    return out


def aliases(tree: ast.AST) -> dict[str, tuple[str, ...]]:
    """Local name -> what it stands for below `pulumi_aws`, for every import form:
    `import pulumi_aws as x` -> (), `from pulumi_aws import lambda_ as lam` -> ("lambda_",),
    `from pulumi_aws.lambda_ import Function as F` -> ("lambda_", "Function")."""
    out: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = tuple(alias.name.split("."))
                if parts[0] != "pulumi_aws":
                    continue
                if alias.asname:
                    out[alias.asname] = parts[1:]
                else:
                    out["pulumi_aws"] = ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = tuple(node.module.split("."))
            if parts[0] != "pulumi_aws":
                continue
            for alias in node.names:
                out[alias.asname or alias.name] = (*parts[1:], alias.name)
    return out


def _canonical(c: Construct, names: dict[str, tuple[str, ...]]) -> Construct | None:
    """The construct with its callee spelled `aws.<module>.<Class>`, or None when the call is
    not a pulumi_aws resource."""
    head, *rest = c.callee.split(".")
    if head not in names:
        return None
    parts = (*names[head], *rest)
    if len(parts) != 2:
        return None
    return dataclasses.replace(c, callee=f"aws.{parts[0]}.{parts[1]}")


def constructs(ctx: PatternContext, folder: str) -> list[Construct]:
    out: list[Construct] = []
    for rel, text in program_files(ctx, folder).items():
        tree = ctx.python_ast(rel)
        if tree is None:
            continue
        names = aliases(tree)
        for c in py_constructs(tree, text, rel):
            canonical = _canonical(c, names)
            if canonical is not None and kind_of(canonical):
                out.append(canonical)
    return out


def kind_of(c: Construct, modules: set[str] | None = None) -> str | None:
    """`aws.lambda_.Function` (or `lambda_.Function` imported from pulumi_aws) -> a kind."""
    parts = c.callee.split(".")
    if len(parts) < 2 or parts[-1].endswith("Args"):
        return None
    if len(parts) >= 3 and parts[-3] != "aws":
        return None
    if len(parts) == 2 and parts[0] not in (modules or set()):
        return None
    module = parts[-2].rstrip("_").lower()
    kind = f"aws_{module}_{snake(parts[-1])}"
    return _RENAMES.get(kind, kind)


def _value(prop: Prop) -> Any:
    if prop.known:
        return prop.literal
    if prop.nested:
        return {k: _value(v) for k, v in prop.nested.items()}
    return f"${{{prop.text}}}"


def resources(items: list[Construct], root: Path) -> list[Resource]:
    by_var = {c.var: c.address for c in items if c.var}
    out = []
    for c in items:
        kind = kind_of(c, {c.callee.split(".")[0]})
        if kind is None:
            continue
        props = {k: _value(v) for k, v in c.props.items() if k != "opts"}
        refs = {
            k: tuple(sorted({by_var[n] for n in v.names if n in by_var}))
            for k, v in c.props.items()
        }
        refs = {k: v for k, v in refs.items() if v}
        if kind == "aws_lambda_function":
            props.setdefault("function_name", props.get("name") or f"{c.id or c.address}-*")
        options = {"protect": False, "retain_on_delete": False}
        opts = c.props.get("opts")
        if opts is not None:
            for option in options:
                value = opts.nested.get(option)
                options[option] = bool(value is not None and value.literal is True)
        out.append(Resource("pulumi", kind, c.address, props, refs, options, root / c.file, c.line))
    _name_log_groups(out)
    return out


def _name_log_groups(items: list[Resource]) -> None:
    """A log group named from a function's output (`fn.name.apply(...)`) is that function's."""
    functions = {r.address: r for r in items if r.kind == "aws_lambda_function"}
    for group in items:
        if group.kind != "aws_cloudwatch_log_group":
            continue
        for address in group.references("name"):
            fn = functions.get(address)
            if fn is not None:
                group.props["name"] = f"/aws/lambda/{fn.prop('function_name')}"
