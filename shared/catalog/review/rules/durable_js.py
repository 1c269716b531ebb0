"""durable-* rules for JavaScript/TypeScript (`withDurableExecution`), with the brace-aware scanner."""

from __future__ import annotations

import re

from ..context import PatternContext
from ..jsscan import JsFile

HINT_STEP = "compute it inside context.step (its result is checkpointed) and use the step's result"
HINT_NEST = "move the operation out of the step body, or group the work with runInChildContext"
HINT_INVOKE = "use context.invoke(function_name, payload) so the call is checkpointed"

JS_OPS = (
    "step",
    "invoke",
    "wait",
    "runInChildContext",
    "parallel",
    "map",
    "createCallback",
    "waitForCallback",
    "waitForCondition",
)
JS_STEP_OPS = frozenset({"step", "waitForCallback", "waitForCondition"})
JS_CHILD_OPS = frozenset({"runInChildContext", "parallel", "map"})
_JS_HANDLER = re.compile(r"\bwithDurableExecution\s*(?:<[^>()]*>)?\s*\(")
_JS_NONDET = re.compile(
    r"\bnew\s+Date\s*\(\s*\)|\bDate\s*\.\s*now\s*\(|\bMath\s*\.\s*random\s*\(|"
    r"\b(?:crypto\s*\.\s*)?randomUUID\s*\(|\bperformance\s*\.\s*now\s*\(|"
    r"\bcrypto\s*\.\s*(?:getRandomValues|randomBytes|randomInt)\s*\(|\b(?:nanoid|ulid|uuidv4|uuidv1)\s*\("
)
_JS_INVOKE = re.compile(
    r"\bnew\s+(?:\w+\s*\.\s*)?(InvokeCommand|InvokeAsyncCommand|InvokeWithResponseStreamCommand)\s*\("
)
_JS_UUID_IMPORT = re.compile(
    r"import\s*\{([^}]*)\}\s*from\s*['\"]uuid['\"]|\{([^}]*)\}\s*=\s*require\(\s*['\"]uuid['\"]\s*\)"
)
_JS_UUID_DEFAULT = re.compile(
    r"import\s+(?:\*\s+as\s+)?(\w+)\s+from\s*['\"]uuid['\"]|(\w+)\s*=\s*require\(\s*['\"]uuid['\"]\s*\)"
)
_JS_V2_LAMBDA = re.compile(r"(?:const|let|var)\s+(\w+)\s*=\s*new\s+(?:AWS\s*\.\s*)?Lambda\s*\(")


def _uuid_names(src: str) -> list[str]:
    names = []
    for m in _JS_UUID_IMPORT.finditer(src):
        for item in (m.group(1) or m.group(2) or "").split(","):
            item = item.strip()
            if item:
                names.append(re.split(r"\s+as\s+|\s*:\s*", item)[-1].strip())
    for m in _JS_UUID_DEFAULT.finditer(src):
        alias = m.group(1) or m.group(2)
        names += [f"{alias}.v4", f"{alias}.v1"]
    return names


def _op_pattern(names: set[str]) -> re.Pattern[str]:
    alt = "|".join(sorted(re.escape(n) for n in names))
    return re.compile(rf"\b({alt})\s*\.\s*({'|'.join(JS_OPS)})\s*(?:<[^>()]*>)?\s*\(")


def _js_handlers(js: JsFile) -> list[tuple[int, int, list[str]]]:
    out = []
    for m in js.find(_JS_HANDLER):
        args = js.call_args(m.end() - 1)
        if args is None:
            continue
        fn = js.function_at(args[0])
        if fn is None:
            ident = re.match(r"\s*([A-Za-z_$][\w$]*)\s*[,)]", js.code[args[0] : args[1] + 1])
            fn = js.named_function(ident.group(1)) if ident else None
        if fn is not None:
            out.append((fn.body_start, fn.body_end, fn.params))
    return out


def check_js(ctx: PatternContext, rel: str, text: str) -> None:
    if "withDurableExecution" not in text:
        return
    js = JsFile(text)
    handlers = _js_handlers(js)
    if not handlers:
        return
    names = {"context", "ctx"} | {p[1] for *_, p in handlers if len(p) >= 2 and p[1]}
    step_regions: list[tuple[int, int, int]] = []  # (call offset, args start, args end)
    op_calls: list[tuple[int, str]] = []
    for _ in range(3):  # child contexts name new durable contexts: iterate to a fixpoint
        before = len(names)
        step_regions, op_calls = [], []
        for start, end, _params in handlers:
            for m in js.find(_op_pattern(names), start, end):
                args = js.call_args(m.end() - 1)
                if args is None:
                    continue
                op_calls.append((m.start(), m.group(2)))
                if m.group(2) in JS_STEP_OPS:
                    step_regions.append((m.start(), *args))
                elif m.group(2) in JS_CHILD_OPS:
                    names |= _callback_params(js, *args)
        if len(names) == before:
            break
    reported: set[tuple[str, int]] = set()

    def report(rule_id: str, offset: int, message: str, hint: str) -> None:
        line = js.line(offset)
        if (rule_id, line) not in reported:
            reported.add((rule_id, line))
            ctx.report(rule_id, rel, line, message, hint)

    for offset, op in op_calls:
        outer = [r for r in step_regions if r[1] <= offset < r[2] and r[0] != offset]
        if outer:
            report(
                "DUR002",
                offset,
                f"context.{op}(...) inside a step callback: durable operations cannot "
                "nest in a step",
                HINT_NEST,
            )
    nondet = _JS_NONDET
    extra = _uuid_names(text)
    if extra:
        nondet = re.compile(
            nondet.pattern + "|" + "|".join(rf"\b{re.escape(n)}\s*\(" for n in extra)
        )
    for start, end, _params in handlers:
        for m in js.find(nondet, start, end):
            if any(a <= m.start() < b for _, a, b in step_regions):
                continue
            call = " ".join(m.group(0).split()).replace(" (", "(").replace("( ", "(")
            call = call if call.endswith(")") else call + ")"
            report(
                "DUR001",
                m.start(),
                f"{call} outside a step: replay gives another value",
                HINT_STEP,
            )
    v2_clients = [m.group(1) for m in _JS_V2_LAMBDA.finditer(js.code)]
    invoke = _JS_INVOKE
    if v2_clients:
        alt = "|".join(re.escape(c) for c in v2_clients)
        invoke = re.compile(invoke.pattern + rf"|\b({alt})\s*\.\s*invoke(?:Async)?\s*\(")
    for m in js.find(invoke):
        what = m.group(1) or "Lambda.invoke"
        report(
            "DUR003", m.start(), f"{what} through the AWS SDK in a durable function", HINT_INVOKE
        )


def _callback_params(js: JsFile, start: int, end: int) -> set[str]:
    found = set()
    for m in re.finditer(
        r"(?:async\s*)?(?:function\s*\w*\s*)?\(\s*([A-Za-z_$][\w$]*)", js.code[start:end]
    ):
        fn = js.function_at(start + m.start())
        if fn is not None and fn.params and fn.params[0] == m.group(1):
            found.add(m.group(1))
    return found
