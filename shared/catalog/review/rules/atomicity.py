"""atomicity: a DynamoDB item read, then written back without a ConditionExpression.

Two concurrent requests both read the old value and both write: stock is over-allocated, a
payment is charged twice. Python is read with `ast` (per function); JavaScript/TypeScript with the
scanner (per top-level block), for the SDK v3 commands and the v2 method names.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..context import PatternContext
from ..jsscan import JS_SUFFIXES, JsFile
from ..model import rule
from . import check

rule(
    "ATOM001",
    "atomicity",
    "error",
    "read-then-write of a DynamoDB item without a condition",
    "GetItemCommand on productId, then UpdateItemCommand SET stockLevel = :newStock with no "
    "ConditionExpression",
)

_HINT = (
    "make the write conditional (ConditionExpression, e.g. 'stockLevel >= :qty' with "
    "SET stockLevel = stockLevel - :qty) and handle ConditionalCheckFailedException"
)
_PY_READS = frozenset({"get_item"})
_PY_WRITES = frozenset({"update_item", "put_item"})


@dataclass(frozen=True)
class _Call:
    kind: str  # read | write
    receiver: str
    table: str | None
    key: str | None
    conditional: bool
    line: int
    offset: int = 0


def _same_item(read: _Call, write: _Call) -> bool:
    if read.receiver != write.receiver or read.table != write.table:
        return False
    return read.key is None or write.key is None or read.key == write.key


# ------------------------------------------------------------------ Python
def _py_calls(fn: ast.AST) -> list[_Call]:
    calls = []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in _PY_READS and method not in _PY_WRITES:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        table = ast.unparse(kw["TableName"]) if "TableName" in kw else None
        key = ast.unparse(kw["Key"]) if "Key" in kw else None
        conditional = (
            "ConditionExpression" in kw
            or "Expected" in kw
            or any(k.arg is None for k in node.keywords)
        )
        calls.append(
            _Call(
                "read" if method in _PY_READS else "write",
                ast.unparse(node.func.value),
                table,
                key,
                conditional,
                node.lineno,
                node.col_offset,
            )
        )
    return sorted(calls, key=lambda c: (c.line, c.offset))


def check_python(ctx: PatternContext, rel: str, text: str) -> None:
    if "get_item" not in text:
        return
    tree = ctx.python_ast(rel)
    if tree is None:
        return
    functions = [
        n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    seen: set[int] = set()
    for fn in functions:
        _report(ctx, rel, _py_calls(fn), seen)


def _report(ctx: PatternContext, rel: str, calls: list[_Call], seen: set[int]) -> None:
    reads: list[_Call] = []
    for call in calls:
        if call.kind == "read":
            reads.append(call)
            continue
        if call.conditional or call.line in seen:
            continue
        read = next((r for r in reads if _same_item(r, call)), None)
        if read is not None:
            seen.add(call.line)
            ctx.report(
                "ATOM001",
                rel,
                call.line,
                f"item read at line {read.line} is written here without a ConditionExpression: "
                "concurrent requests can both pass the check (lost update)",
                _HINT,
            )


# ------------------------------------------------------------------ JavaScript / TypeScript
_JS_CMD = re.compile(
    r"\bnew\s+(GetItemCommand|GetCommand|UpdateItemCommand|UpdateCommand|PutItemCommand|PutCommand)\s*\("
)
_JS_V2 = re.compile(
    r"\b([\w$.]+)\s*\.\s*(getItem|get|updateItem|update|putItem|put)\s*\(\s*([\w$]+|\{)"
)
_JS_READS = ("GetItemCommand", "GetCommand", "getItem", "get")


def _object_text(js: JsFile, start: int, end: int) -> tuple[str, dict[str, str]] | None:
    """The object literal at start (or the variable it names, declared earlier in the file)."""
    k = js.skip_ws(start)
    if k < end and js.code[k] == "{" and (close := js.close(k)) is not None:
        return js.text(k, close + 1), {
            key: js.text(a, b).strip() for key, (a, b) in js.object_props(k, close).items()
        }
    ident = re.match(r"([A-Za-z_$][\w$]*)", js.code[k:end])
    if ident:
        decl = re.compile(
            rf"\b(?:const|let|var)\s+{re.escape(ident.group(1))}\s*(?::[^=]+)?=\s*\{{"
        )
        found = None
        for m in js.find(decl, 0, start):
            found = m
        if found is not None and (close := js.close(found.end() - 1)) is not None:
            brace = found.end() - 1
            props = {
                key: js.text(a, b).strip() for key, (a, b) in js.object_props(brace, close).items()
            }
            return js.text(brace, close + 1), props
    return None


def _norm(text: str | None) -> str | None:
    return re.sub(r"\s+", "", text) if text is not None else None


def check_js(ctx: PatternContext, rel: str, text: str) -> None:
    if not re.search(r"GetItemCommand|GetCommand|getItem|\.get\(", text):
        return
    js = JsFile(text)
    blocks: dict[tuple[int, int], list[_Call]] = {}
    for m in js.find(_JS_CMD):
        args = js.call_args(m.end() - 1)
        if args is None:
            continue
        found = _object_text(js, *args)
        body, props = found if found else ("", {})
        kind = "read" if m.group(1) in _JS_READS else "write"
        call = _Call(
            kind,
            "sdk-v3",
            _norm(props.get("TableName")),
            _norm(props.get("Key")),
            "ConditionExpression" in body,
            js.line(m.start()),
            m.start(),
        )
        blocks.setdefault(js.enclosing_top_block(m.start()), []).append(call)
    for m in js.find(_JS_V2):
        if m.group(1) in ("this", "map", "params", "headers") or m.group(1).endswith(
            ("Map", "map", "cache")
        ):
            continue
        args = js.call_args(js.code.index("(", m.start() + len(m.group(1))))
        if args is None:
            continue
        found = _object_text(js, *args)
        if found is None or "TableName" not in found[1]:
            continue
        body, props = found
        kind = "read" if m.group(2) in _JS_READS else "write"
        call = _Call(
            kind,
            m.group(1),
            _norm(props.get("TableName")),
            _norm(props.get("Key")),
            "ConditionExpression" in body,
            js.line(m.start()),
            m.start(),
        )
        blocks.setdefault(js.enclosing_top_block(m.start()), []).append(call)
    seen: set[int] = set()
    for calls in blocks.values():
        _report(ctx, rel, sorted(calls, key=lambda c: c.offset), seen)


@check("atomicity", "ATOM001")
def check_atomicity(ctx: PatternContext) -> None:
    for rel in ctx.source_files(".py", *JS_SUFFIXES):
        if rel.endswith(".d.ts") or "/test" in f"/{rel}" or "__tests__" in rel:
            continue
        text = ctx.read_text(rel)
        if text is None:
            continue
        if rel.endswith(".py"):
            check_python(ctx, rel, text)
        else:
            check_js(ctx, rel, text)
