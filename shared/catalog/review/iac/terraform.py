"""Terraform folders -> `Resource` lists with the simple expressions evaluated.

`catalog.resources.from_hcl` reads the resources (module tree, prevent_destroy, references, lines);
this adapter adds what a review without `terraform plan` needs: string literals unquoted and
`var.*`, `local.*` and `path.*` resolved through variable defaults and module arguments, so
`retention_in_days = var.log_retention_days` is known to be 14.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...resources import HclError, Resource, from_hcl
from .. import hclcache
from ..context import PatternContext

_PURE = re.compile(r"^\$\{\s*(var|local)\.([A-Za-z_][\w-]*)\s*\}$")
_INTERP = re.compile(r"\$\{\s*(var|local|path)\.([A-Za-z_][\w-]*)\s*\}")
_FN_NAME = re.compile(r"\$\{\s*aws_lambda_function\.([\w-]+)\.(?:function_name|id)\s*\}")
_UNKNOWN = object()


@lru_cache(maxsize=512)
def _parse(path: str, mtime: float) -> tuple[dict[str, Any], str]:
    text = Path(path).read_text(encoding="utf-8")
    return hclcache.loads(text), text


def parse_file(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed document and its text (cached by path and mtime); raises HclError."""
    try:
        return _parse(str(path), path.stat().st_mtime)
    except (OSError, UnicodeDecodeError) as exc:
        raise HclError(f"{path}: cannot read ({exc})") from exc
    except Exception as exc:  # python-hcl2 raises lark errors of several types
        raise HclError(f"{path}: cannot parse HCL ({type(exc).__name__}: {exc})") from exc


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        if inner.startswith("<<"):
            lines = inner.split("\n")
            inner = "\n".join(lines[1:-1])
            return inner
        return inner.replace('\\"', '"').replace("\\\\", "\\")
    return value


def is_literal(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"'


@dataclass
class Block:
    """A raw top-level block (`data`, `provider`, `module`, `resource`) with where it is."""

    block: str
    type: str
    name: str
    body: dict[str, Any]
    file: Path
    line: int | None
    scope: Scope


@dataclass
class Module:
    path: Path
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: list[tuple[str, str, str, dict[str, Any], Path, int | None]] = field(
        default_factory=list
    )


def load_module(path: Path) -> Module:
    module = Module(path)
    for tf in sorted(path.glob("*.tf")):
        doc, text = parse_file(tf)
        for block in doc.get("variable", []):
            for name, body in block.items():
                default = body.get("default", _UNKNOWN) if isinstance(body, dict) else _UNKNOWN
                module.variables[unquote(name)] = default
        for block in doc.get("locals", []):
            if isinstance(block, dict):
                module.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
        for name, body in _named(doc, "module"):
            module.calls[name] = body
            module.blocks.append(("module", "", name, body, tf, _line(text, "module", name)))
        for kind in ("data", "resource"):
            for block in doc.get(kind, []):
                for type_, named in block.items():
                    for name, body in named.items():
                        t, n = unquote(type_), unquote(name)
                        module.blocks.append((kind, t, n, body, tf, _line(text, kind, t, n)))
        for block in doc.get("provider", []):
            for type_, body in block.items():
                t = unquote(type_)
                module.blocks.append(("provider", t, "", body, tf, _line(text, "provider", t)))
    return module


def _named(doc: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in doc.get(kind, []):
        for name, body in block.items():
            if isinstance(body, dict):
                yield unquote(name), body


def _line(text: str, kind: str, *labels: str) -> int | None:
    label_rx = "".join(rf'\s+"?{re.escape(label)}"?' for label in labels)
    m = re.search(rf"^[ \t]*{kind}{label_rx}\s*\{{", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def attr_line(path: Path, start: int | None, attr: str, needle: str | None = None) -> int | None:
    """Line of `attr =` at or after line `start`; with `needle`, the first line holding it there."""
    try:
        _, text = parse_file(path)
    except HclError:
        return start
    lines = text.splitlines()
    first = max(start or 1, 1)
    found = None
    for number in range(first, len(lines) + 1):
        if re.match(rf"[ \t]*{re.escape(attr)}[ \t]*=", lines[number - 1]):
            found = number
            break
    if needle is not None:
        for number in range(found or first, len(lines) + 1):
            if needle in lines[number - 1]:
                return number
    return found or start


@dataclass
class Scope:
    module: Module
    prefix: str
    root: Path
    args: dict[str, Any] = field(default_factory=dict)  # evaluated module arguments
    parent: Scope | None = None
    _locals: dict[str, Any] = field(default_factory=dict)

    def lookup(self, kind: str, name: str, depth: int) -> Any:
        if kind == "var":
            if name in self.args:
                return self.args[name]
            default = self.module.variables.get(name, _UNKNOWN)
            return _UNKNOWN if default is None else self.evaluate(default, depth + 1)
        if kind == "local":
            if name not in self._locals:
                self._locals[name] = _UNKNOWN  # cycle guard
                raw = self.module.locals.get(name, _UNKNOWN)
                self._locals[name] = _UNKNOWN if raw is _UNKNOWN else self.evaluate(raw, depth + 1)
            return self._locals[name]
        if kind == "path":
            return str(self.module.path if name == "module" else self.root)
        return _UNKNOWN

    def evaluate(self, value: Any, depth: int = 0) -> Any:
        if value is _UNKNOWN or depth > 25:
            return value
        if isinstance(value, dict):
            return {k: self.evaluate(v, depth) for k, v in value.items() if k != "__is_block__"}
        if isinstance(value, list):
            return [self.evaluate(v, depth) for v in value]
        if not isinstance(value, str):
            return value
        m = _PURE.match(value)
        if m:
            found = self.lookup(m.group(1), m.group(2), depth)
            return value if found is _UNKNOWN else found
        if not is_literal(value):
            return value

        def sub(match: re.Match[str]) -> str:
            found = self.lookup(match.group(1), match.group(2), depth)
            if found is _UNKNOWN or isinstance(found, (dict, list)) or found is None:
                return match.group(0)
            return str(found).lower() if isinstance(found, bool) else str(found)

        return _INTERP.sub(sub, unquote(value))


@dataclass
class Project:
    """One Terraform root folder with its local modules followed."""

    root: Path
    resources: list[Resource]
    blocks: list[Block]


def root_folders(ctx: PatternContext, folders: list[str]) -> list[str]:
    """Folders holding *.tf that no other folder of the pattern uses as a local module."""
    used: set[Path] = set()
    for folder in folders:
        base = (ctx.root / folder).resolve()
        try:
            module = load_module(base)
        except HclError:
            continue
        for body in module.calls.values():
            source = body.get("source")
            if is_literal(source) and unquote(source).startswith("."):
                used.add((base / unquote(source)).resolve())
    return [f for f in folders if (ctx.root / f).resolve() not in used]


def load_project(root: Path) -> Project:
    """Raises HclError when a file cannot be parsed."""
    root = root.resolve()
    scopes: dict[str, Scope] = {}
    blocks: list[Block] = []
    _walk(root, "", root, {}, None, scopes, blocks, set())
    resources = []
    for resource in from_hcl(root, parse=hclcache.loads):
        prefix = resource.address[: resource.address.rfind(resource.kind + ".")]
        scope = scopes.get(prefix)
        props = scope.evaluate(resource.props) if scope is not None else resource.props
        resources.append(dataclasses.replace(resource, props=props))
    resources = _expand_counted_groups(resources)
    resources += _registry_lambda_modules(blocks)
    _name_log_groups(resources)
    return Project(root, resources, blocks)


_LAMBDA_MODULE = re.compile(
    r"^(?:registry\.terraform\.io/)?terraform-aws-modules/lambda/aws(?://.*)?$"
    r"|terraform-aws-modules/terraform-aws-lambda"
)


def _registry_lambda_modules(blocks: list[Block]) -> list[Resource]:
    """`module "x" { source = "terraform-aws-modules/lambda/aws" }`: the module creates the
    function and, unless told to use an existing one, its log group with retention
    `cloudwatch_logs_retention_in_days`, which defaults to null (the logs never expire)."""
    out: list[Resource] = []
    for block in blocks:
        source = block.body.get("source") if block.block == "module" else None
        if not (is_literal(source) and _LAMBDA_MODULE.search(unquote(source))):
            continue
        body = block.scope.evaluate(block.body)
        if str(body.get("create_function", "true")).lower() == "false" or (
            str(body.get("create_layer", "false")).lower() == "true"
        ):
            continue  # a layer-only call (create_layer) makes no function and no log group
        prefix = f"{block.scope.prefix}module.{block.name}"
        name = body.get("function_name")
        fn_props: dict[str, Any] = {"function_name": name, "runtime": body.get("runtime")}
        group_props: dict[str, Any] = {
            "name": f"/aws/lambda/{name}",
            "retention_in_days": body.get("cloudwatch_logs_retention_in_days"),
        }
        refs: dict[str, tuple[str, ...]] = {}
        if body.get("logging_log_group") is not None:
            fn_props["logging_config"] = {"log_group": body["logging_log_group"]}
            found = re.findall(r"aws_cloudwatch_log_group\.[\w-]+", str(body["logging_log_group"]))
            refs["logging_config"] = tuple(f"{block.scope.prefix}{a}" for a in found)
        out.append(
            Resource(
                "terraform-hcl",
                "aws_lambda_function",
                prefix,
                fn_props,
                refs,
                file=block.file,
                line=block.line,
            )
        )
        if str(body.get("use_existing_cloudwatch_log_group", "false")).lower() != "true":
            line = attr_line(block.file, block.line, "cloudwatch_logs_retention_in_days")
            out.append(
                Resource(
                    "terraform-hcl",
                    "aws_cloudwatch_log_group",
                    f"{prefix}.aws_cloudwatch_log_group.lambda[0]",
                    group_props,
                    file=block.file,
                    line=line if "cloudwatch_logs_retention_in_days" in body else block.line,
                )
            )
    return out


def _walk(
    directory: Path,
    prefix: str,
    root: Path,
    args: dict[str, Any],
    parent: Scope | None,
    scopes: dict[str, Scope],
    blocks: list[Block],
    seen: set[Path],
) -> None:
    if directory in seen or not directory.is_dir():
        return
    seen = seen | {directory}
    module = load_module(directory)
    scope = Scope(module, prefix, root, args, parent)
    scopes[prefix] = scope
    for kind, type_, name, body, file, line in module.blocks:
        blocks.append(Block(kind, type_, name, body, file, line, scope))
    for name, body in module.calls.items():
        source = body.get("source")
        if not (is_literal(source) and unquote(source).startswith(".")):
            continue
        child_args = {
            k: scope.evaluate(v)
            for k, v in body.items()
            if k not in ("source", "for_each", "count", "providers", "depends_on", "__is_block__")
        }
        child_args = {k: v for k, v in child_args.items() if not _unresolved(v)}
        _walk(
            (directory / unquote(source)).resolve(),
            f"{prefix}module.{name}.",
            root,
            child_args,
            scope,
            scopes,
            blocks,
            seen,
        )


def _unresolved(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


_ELEMENT = re.compile(
    r"\$\{\s*(?:element\(\s*\[([^\]]*)\]\s*,\s*count\.index\s*\)|\[([^\]]*)\]\[\s*count\.index\s*\])\s*\}"
)
_EACH = re.compile(r"\$\{\s*each\.(?:key|value)\s*\}")
_LIST_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _expand_counted_groups(resources: list[Resource]) -> list[Resource]:
    """A log group made once per list item (`count` with `element([...], count.index)`, or
    `for_each` over a literal list) becomes one group per item, so each function finds its own."""
    out: list[Resource] = []
    for r in resources:
        name = r.prop("name") if r.kind == "aws_cloudwatch_log_group" else None
        items: list[str] = []
        template = ""
        if isinstance(name, str) and (m := _ELEMENT.search(name)):
            items = _LIST_ITEM.findall(m.group(1) if m.group(1) is not None else m.group(2))
            template = name[: m.start()] + "\0" + name[m.end() :]
        elif isinstance(name, str) and _EACH.search(name):
            for_each = r.props.get("for_each")
            listed = re.search(r"\[([^\]]*)\]", for_each) if isinstance(for_each, str) else None
            items = _LIST_ITEM.findall(listed.group(1)) if listed else []
            template = _EACH.sub("\0", name)
        if not items:
            out.append(r)
            continue
        for index, item in enumerate(items):
            props = dict(r.props, name=template.replace("\0", item))
            out.append(dataclasses.replace(r, address=f"{r.address}[{index}]", props=props))
    return out


def _name_log_groups(resources: list[Resource]) -> None:
    """`name = "/aws/lambda/${aws_lambda_function.fn.function_name}"` -> the function's name."""
    functions = {r.address: r for r in resources if r.kind == "aws_lambda_function"}
    for index, group in enumerate(resources):
        name = group.prop("name") if group.kind == "aws_cloudwatch_log_group" else None
        if not isinstance(name, str) or "aws_lambda_function." not in name:
            continue
        prefix = group.address[: group.address.rfind(group.kind + ".")]

        def sub(match: re.Match[str], prefix: str = prefix) -> str:
            fn = functions.get(f"{prefix}aws_lambda_function.{match.group(1)}")
            value = fn.prop("function_name") if fn else None
            return value if isinstance(value, str) else match.group(0)

        props = dict(group.props, name=_FN_NAME.sub(sub, name))
        resources[index] = dataclasses.replace(group, props=props)


def projects(ctx: PatternContext, folders: list[str]) -> list[Project]:
    """Every Terraform root of the pattern (cached on the context); unparsable ones are noticed."""
    cached = ctx.cache.get("terraform")
    if isinstance(cached, list):
        return cached
    out = []
    for folder in root_folders(ctx, folders):
        try:
            out.append(load_project(ctx.root / folder))
        except (HclError, RecursionError) as exc:
            rel, line = _error_place(ctx, folder, str(exc))
            ctx.unreadable(rel, f"Terraform not analysed: {exc}", line)
    ctx.cache["terraform"] = out
    return out


def _error_place(ctx: PatternContext, folder: str, message: str) -> tuple[str, int | None]:
    """The file (relative to the pattern) and line an HCL error names, else the folder's."""
    head = message.split(": ", 1)[0]
    path = Path(head)
    rel = os.path.relpath(path, ctx.root) if path.is_absolute() and path.is_file() else None
    if rel is None:
        tfs = sorted(f for f in ctx.files if f.endswith(".tf") and _parent_of(f) == folder)
        rel = tfs[0] if tfs else folder or "."
    m = re.search(r"\bline (\d+)|at line (\d+)|Line (\d+)", message)
    line = int(next(g for g in m.groups() if g)) if m else None
    return rel.replace(os.sep, "/"), line


def _parent_of(rel: str) -> str:
    parent = os.path.dirname(rel)
    return parent


def rel_to(ctx: PatternContext, path: Path) -> str:
    return os.path.relpath(path, ctx.root)


def unquote_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {unquote(k): unquote_all(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [unquote_all(v) for v in value]
    return unquote(value) if isinstance(value, str) else value


def json_document(value: Any) -> Any:
    """The document of `jsonencode({...})`, a heredoc or a JSON string attribute; None otherwise."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", value, re.DOTALL)
    if m:
        try:
            return unquote_all(hclcache.parse(f"value = {m.group(1)}\n").get("value"))
        except Exception:  # an expression python-hcl2 cannot read on its own
            return None
    text = unquote(value).strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    return None
