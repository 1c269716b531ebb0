"""durable-determinism, durable-nesting, durable-invoke: Lambda durable functions code.

Replay re-runs the handler and checks operation names and order, not values: a clock, uuid or
random value made outside a step silently differs on replay; an operation inside a step body is
not checkpointed; a Lambda invoke through the SDK bypasses `context.invoke`. Python is read with
`ast`; JavaScript/TypeScript with the brace-aware scanner of `catalog.review.jsscan`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..context import PatternContext
from ..jsscan import JS_SUFFIXES
from ..model import rule
from . import check, durable_js

rule(
    "DUR001",
    "durable-determinism",
    "error",
    "non-deterministic call outside a step in a durable handler",
    "return { timestamp: new Date().toISOString() } in the handler body; uuid.uuid4() outside "
    "context.step",
)
rule(
    "DUR002",
    "durable-nesting",
    "error",
    "durable operation inside a step body",
    "context.step('restore-inventory', ...) inside the 'fulfill-order' step callback",
)
rule(
    "DUR003",
    "durable-invoke",
    "error",
    "SDK Lambda invoke in a durable function",
    "lambdaClient.send(new InvokeCommand({...})) / boto3.client('lambda').invoke(...) instead of "
    "context.invoke",
)

DURABLE_OPS_PY = frozenset(
    {
        "step",
        "invoke",
        "wait",
        "run_in_child_context",
        "parallel",
        "map",
        "create_callback",
        "wait_for_callback",
        "wait_for_condition",
    }
)
STEP_OPS_PY = frozenset({"step", "wait_for_callback", "wait_for_condition"})
NONDETERMINISTIC_PY = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "uuid.uuid1",
        "uuid.uuid4",
        "os.urandom",
        "os.getrandom",
    }
)
NONDETERMINISTIC_MODULES_PY = ("random.", "secrets.")
_INVOKE_METHODS = frozenset({"invoke", "invoke_async", "invoke_with_response_stream"})
_HINT_STEP = "compute it inside a step (its result is checkpointed) and use the step's result"
_HINT_NEST = "move the operation out of the step body, or group the work with run_in_child_context"
_HINT_INVOKE = "use context.invoke(function_name, payload) so the call is checkpointed"


# ------------------------------------------------------------------ Python
def _imports(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _qualified(func: ast.AST, aliases: dict[str, str]) -> str | None:
    name = _dotted(func)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    full = aliases.get(head, head)
    return f"{full}.{rest}" if rest else full


def _decorated(fn: ast.FunctionDef | ast.AsyncFunctionDef, suffix: str) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = _dotted(target) or ""
        if name == suffix or name.endswith("." + suffix):
            return True
    return False


@dataclass
class _PyScan:
    ctx: PatternContext
    rel: str
    aliases: dict[str, str]
    durable_names: set[str]
    step_funcs: set[str]
    reported: set[tuple[str, int, int]] = field(default_factory=set)

    def report(self, rule_id: str, node: ast.AST, message: str, hint: str) -> None:
        key = (rule_id, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if key not in self.reported:
            self.reported.add(key)
            self.ctx.report(rule_id, self.rel, getattr(node, "lineno", None), message, hint)

    def op(self, node: ast.Call) -> str | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in DURABLE_OPS_PY:
            owner = _dotted(func.value)
            if owner in self.durable_names:
                return func.attr
        return None

    def scan(self, node: ast.AST, in_step: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body_in_step = (
                in_step or node.name in self.step_funcs or _decorated(node, "durable_step")
            )
            for child in node.body:
                self.scan(child, body_in_step)
            return
        if isinstance(node, ast.Call):
            op = self.op(node)
            if op is not None:
                if in_step:
                    self.report(
                        "DUR002",
                        node,
                        f"context.{op}(...) runs inside a step body: durable "
                        "operations cannot nest in a step",
                        _HINT_NEST,
                    )
                if op in STEP_OPS_PY:
                    callback = (
                        node.args[0]
                        if node.args
                        else next(
                            (
                                k.value
                                for k in node.keywords
                                if k.arg in ("func", "check", "submitter")
                            ),
                            None,
                        )
                    )
                    if isinstance(callback, ast.Lambda):
                        self.scan(callback.body, True)
                        for other in [*node.args[1:], *(k.value for k in node.keywords)]:
                            self.scan(other, in_step)
                        self.scan(node.func, in_step)
                        return
            name = _qualified(node.func, self.aliases) or ""
            if not in_step and (
                name in NONDETERMINISTIC_PY or name.startswith(NONDETERMINISTIC_MODULES_PY)
            ):
                self.report(
                    "DUR001",
                    node,
                    f"{name}() outside a step: replay gives another value",
                    _HINT_STEP,
                )
        for child in ast.iter_child_nodes(node):
            self.scan(child, in_step)


def _lambda_clients(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        value = getattr(node, "value", None)
        if (
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and isinstance(value, ast.Call)
            and _is_lambda_client(value)
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n for t in targets if (n := _dotted(t))}
    return names


def _is_lambda_client(call: ast.Call) -> bool:
    name = _dotted(call.func) or ""
    if not name.endswith("client"):
        return False
    service = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg == "service_name"), None)
    )
    return isinstance(service, ast.Constant) and service.value == "lambda"


_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _takes_durable_context(fn: _FunctionNode) -> bool:
    return any(
        arg.annotation is not None and "DurableContext" in ast.unparse(arg.annotation)
        for arg in fn.args.args
    )


def _helpers(
    tree: ast.Module, roots: list[_FunctionNode], durable_names: set[str], skip: set[str]
) -> list[_FunctionNode]:
    """Functions of the module that receive the durable context: annotated `DurableContext`, or
    called (from a handler or another helper) with the context as an argument. Their bodies run
    during replay like the handler's own. Adds their context parameters to `durable_names`."""
    functions: dict[str, _FunctionNode] = {
        n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found: dict[str, _FunctionNode] = {
        name: fn
        for name, fn in functions.items()
        if name not in skip and fn not in roots and _takes_durable_context(fn)
    }
    queue = [*roots, *found.values()]
    while queue:
        caller = queue.pop()
        for call in ast.walk(caller):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            target = functions.get(call.func.id)
            if target is None or target in roots or call.func.id in skip:
                continue
            params = [a.arg for a in target.args.args]
            passed = [
                params[i]
                for i, a in enumerate(call.args)
                if i < len(params) and isinstance(a, ast.Name) and a.id in durable_names
            ]
            passed += [
                k.arg
                for k in call.keywords
                if k.arg in params and isinstance(k.value, ast.Name) and k.value.id in durable_names
            ]
            if passed and call.func.id not in found:
                durable_names.update(passed)
                found[call.func.id] = target
                queue.append(target)
    return list(found.values())


def check_python(ctx: PatternContext, rel: str, text: str) -> None:
    if "durable_execution" not in text and "DurableContext" not in text:
        return
    tree = ctx.python_ast(rel)
    if tree is None:
        return
    handlers = [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _decorated(n, "durable_execution")
    ]
    if not handlers and not any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _takes_durable_context(n)
        for n in ast.walk(tree)
    ):
        return
    durable_names = {"context", "ctx", "durable_context"}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for arg in fn.args.args:
                if arg.annotation is not None and "DurableContext" in ast.unparse(arg.annotation):
                    durable_names.add(arg.arg)
    for handler in handlers:
        if len(handler.args.args) >= 2:
            durable_names.add(handler.args.args[1].arg)
    step_funcs = {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (_decorated(n, "durable_step") or _decorated(n, "durable_wait_for_callback"))
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in STEP_OPS_PY
            and _dotted(node.func.value) in durable_names
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            step_funcs.add(node.args[0].id)
    child_contexts = {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (
            _decorated(n, "durable_with_child_context") or _decorated(n, "durable_parallel_branch")
        )
    }
    helpers = _helpers(tree, handlers, durable_names, step_funcs | child_contexts)
    scan = _PyScan(ctx, rel, _imports(tree), durable_names, step_funcs)
    for handler in [*handlers, *helpers]:
        for stmt in handler.body:
            scan.scan(stmt, False)
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn not in handlers:
            if fn.name in child_contexts:
                for stmt in fn.body:
                    scan.scan(stmt, False)
            elif fn.name in step_funcs and fn.col_offset == 0:
                for stmt in fn.body:
                    scan.scan(stmt, True)
    clients = _lambda_clients(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _INVOKE_METHODS
        ):
            owner = node.func.value
            if _dotted(owner) in clients or (
                isinstance(owner, ast.Call) and _is_lambda_client(owner)
            ):
                scan.report(
                    "DUR003",
                    node,
                    f"Lambda {node.func.attr}() through boto3 in a durable function",
                    _HINT_INVOKE,
                )


@check("durable", "DUR001", "DUR002", "DUR003")
def check_durable(ctx: PatternContext) -> None:
    for rel in ctx.source_files(".py", *JS_SUFFIXES):
        if rel.endswith(".d.ts"):
            continue
        text = ctx.read_text(rel)
        if text is None:
            continue
        if rel.endswith(".py"):
            check_python(ctx, rel, text)
        else:
            durable_js.check_js(ctx, rel, text)
