"""Construct calls in CDK (TypeScript/JavaScript/Python) and Pulumi (Python) programs.

Only what is statically visible: `new X(scope, "Id", {...})` / `X(self, "Id", k=v)` /
`aws.x.Y("name", k=v, opts=...)`. Values are kept as source text plus a literal when there is one.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from ...resources import snake
from ..jsscan import JsFile

_NO = object()
_NEW = re.compile(r"\bnew\s+([A-Za-z_$][\w$.]*)\s*(?:<[^>()]*>)?\s*\(")
_ASSIGNED = re.compile(
    r"(?:(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]+)?|this\.([A-Za-z_$][\w$]*))\s*=\s*$"
)
_IDENT = re.compile(r"\b[A-Za-z_$][\w$]*\b")


@dataclass
class Prop:
    text: str
    line: int
    literal: Any = _NO
    names: tuple[str, ...] = ()
    nested: dict[str, Prop] = field(default_factory=dict)
    span: tuple[int, int] = (0, 0)

    @property
    def known(self) -> bool:
        return self.literal is not _NO


@dataclass
class Construct:
    callee: str
    var: str | None
    id: str | None
    props: dict[str, Prop]
    line: int
    file: str
    span: tuple[int, int] = (0, 0)

    @property
    def cls(self) -> str:
        return self.callee.rsplit(".", 1)[-1]

    @property
    def address(self) -> str:
        return self.var or self.id or f"{self.cls}@{self.line}"


# ------------------------------------------------------------------ TypeScript / JavaScript
def _js_literal(text: str) -> Any:
    t = text.strip()
    if t in ("true", "false"):
        return t == "true"
    if re.fullmatch(r"-?\d+(?:\.\d+)?", t):
        return float(t) if "." in t else int(t)
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"`" and "${" not in t:
        return t[1:-1]
    return _NO


def _js_prop(js: JsFile, start: int, end: int) -> Prop:
    text = js.text(start, end).strip()
    lead = start + (len(js.text(start, end)) - len(js.text(start, end).lstrip()))
    prop = Prop(
        text,
        js.line(lead),
        _js_literal(text),
        tuple(_IDENT.findall(js.code[start:end])),
        span=(start, end),
    )
    k = js.skip_ws(start)
    if k < end and js.code[k] == "{" and (close := js.close(k)) is not None:
        prop.nested = {
            snake(key): _js_prop(js, a, b) for key, (a, b) in js.object_props(k, close).items()
        }
    return prop


def js_constructs(js: JsFile, rel: str) -> list[Construct]:
    out = []
    for m in _NEW.finditer(js.code):
        paren = m.end() - 1
        args = js.call_args(paren)
        if args is None:
            continue
        items = js.split_top(*args)
        before = js.code[max(0, m.start() - 120) : m.start()]
        assigned = _ASSIGNED.search(before)
        var = (assigned.group(1) or assigned.group(2)) if assigned else None
        ident = _js_literal(js.text(*items[1])) if len(items) > 1 else _NO
        first = _js_literal(js.text(*items[0])) if items else _NO
        props: dict[str, Prop] = {}
        for a, b in items[1:] if isinstance(first, str) else items[2:]:
            k = js.skip_ws(a)
            if k < b and js.code[k] == "{" and (close := js.close(k)) is not None:
                props = {
                    snake(key): _js_prop(js, x, y)
                    for key, (x, y) in js.object_props(k, close).items()
                }
                break
        name = first if isinstance(first, str) else ident if isinstance(ident, str) else None
        out.append(
            Construct(m.group(1), var, name, props, js.line(m.start()), rel, (m.start(), args[1]))
        )
    return out


# ------------------------------------------------------------------ Python
class Source:
    """`ast.get_source_segment` without re-splitting the whole text for every node."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)

    def segment(self, node: ast.AST) -> str:
        start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if None in (start, end, col, end_col) or end > len(self.lines):  # type: ignore[operator]
            return ast.unparse(node)
        if start == end:
            return self.lines[start - 1].encode()[col:end_col].decode(errors="replace")  # type: ignore[index]
        first = self.lines[start - 1].encode()[col:].decode(errors="replace")  # type: ignore[index]
        last = self.lines[end - 1].encode()[:end_col].decode(errors="replace")  # type: ignore[index]
        return first + "".join(self.lines[start : end - 1]) + last  # type: ignore[misc]


def _py_prop(node: ast.expr, source: Source) -> Prop:
    text = source.segment(node)
    try:
        literal: Any = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        literal = _NO
    names = tuple(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    names += tuple(
        f"self.{n.attr}"
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
    )
    prop = Prop(text, node.lineno, literal, names)
    if isinstance(node, ast.Call):
        prop.nested = {snake(k.arg): _py_prop(k.value, source) for k in node.keywords if k.arg}
    elif isinstance(node, ast.Dict):
        prop.nested = {
            snake(str(k.value)): _py_prop(v, source)
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant)
        }
    return prop


def py_constructs(tree: ast.AST, text: str, rel: str) -> list[Construct]:
    source = Source(text)
    targets: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                targets[id(node.value)] = target.id
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                targets[id(node.value)] = f"{target.value.id}.{target.attr}"
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = ast.unparse(node.func)
        if not callee[:1].isalpha() or not callee.rsplit(".", 1)[-1][:1].isupper():
            continue
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        name = None
        for arg in positional[:2]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                name = arg.value
                break
        props = {snake(k.arg): _py_prop(k.value, source) for k in node.keywords if k.arg}
        out.append(Construct(callee, targets.get(id(node)), name, props, node.lineno, rel))
    return out


RETENTION_DAYS = {
    "ONE_DAY": 1,
    "THREE_DAYS": 3,
    "FIVE_DAYS": 5,
    "ONE_WEEK": 7,
    "TWO_WEEKS": 14,
    "ONE_MONTH": 30,
    "TWO_MONTHS": 60,
    "THREE_MONTHS": 90,
    "FOUR_MONTHS": 120,
    "FIVE_MONTHS": 150,
    "SIX_MONTHS": 180,
    "ONE_YEAR": 365,
    "THIRTEEN_MONTHS": 400,
    "EIGHTEEN_MONTHS": 545,
    "TWO_YEARS": 731,
    "THREE_YEARS": 1096,
    "FIVE_YEARS": 1827,
    "SIX_YEARS": 2192,
    "SEVEN_YEARS": 2557,
    "EIGHT_YEARS": 2922,
    "NINE_YEARS": 3288,
    "TEN_YEARS": 3653,
    "INFINITE": None,
}
