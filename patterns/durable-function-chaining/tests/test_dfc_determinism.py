"""Determinism: replays must pass the same inputs to the same operations.

The SDK checks operation types, names and order on replay, but not values: a uuid or a clock read
made outside a step silently takes a new value on every replay. `ReplaySpy` records what the
handler passes to `context.invoke`/`context.wait` on every invocation (Lambda re-runs the handler
from the top after each suspension) and what it starts inside step bodies. The real orchestrator
passes; versions of it with the classic mistakes are caught, and the first one does real harm.
"""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from dfc_harness import STOCK, Chain, ReplaySpy, invariant_problems, order
from durable_chain.functions import orchestrator

SOURCE = Path(orchestrator.__file__).read_text()
SRC_DIR = Path(orchestrator.__file__).resolve().parents[1]
KEY_STEP = re.compile(
    r"context\.step\(\s*mint_idempotency_key,\s*name=\"payment-idempotency-key\","
    r"\s*config=NEVER\.step_config\(\),?\s*\)"
)


def variant(replacement: str) -> Any:
    """The orchestrator's handler with the payment-key step replaced by `replacement`."""
    source, count = KEY_STEP.subn(replacement, SOURCE)
    assert count == 1, "the payment-idempotency-key step was not found: update this test"
    name = "durable_chain.functions.orchestrator_variant"
    module = types.ModuleType(name)
    module.__package__ = "durable_chain.functions"
    sys.modules[name] = module  # dataclasses look their module up there
    try:
        exec(compile(source, "<orchestrator variant>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module.handler


def test_replays_pass_identical_inputs(chain: Chain) -> None:
    spy = ReplaySpy()
    with spy.installed():
        outcome = chain.run(
            order(),
            faults=[
                ("payment", "TransientError", "after", 1),
                ("shipping", "PermanentError", "before", 1),
            ],
        )
    assert outcome.status == "FAILED"  # forward steps, retries and compensations all replayed
    # A completed child context returns its checkpoint without re-running its body; the open
    # one (and everything at the top level) is re-run on every invocation.
    assert spy.replays() >= 5
    assert spy.divergent() == {}
    assert spy.nested == []


def test_a_uuid_outside_a_step_is_caught_and_would_double_charge(chain: Chain) -> None:
    broken = variant("mint_idempotency_key(None)")  # the key minted outside any step
    spy = ReplaySpy()
    with spy.installed():
        outcome = chain.run(
            order(),
            faults=[("shipping", "PermanentError", "before", 1)],
            overrides={"orchestrator": broken},
        )
    divergent = spy.divergent()
    assert divergent, "a value made outside a step must be detected"
    assert any(name == "attempt-1" and "invoke" in kind for (_, kind, name) in divergent)
    # The harm: the refund carries a different key than the charge, so the charge stays.
    refund_keys = {c.event["idempotency_key"] for c in outcome.calls_to("payment", "refund")}
    charge_keys = {c.event["idempotency_key"] for c in outcome.calls_to("payment", "charge")}
    assert refund_keys.isdisjoint(charge_keys)
    problems = invariant_problems(chain.snapshot(), STOCK, [outcome])
    assert any("charged without a completed order" in p for p in problems)


def test_a_nested_step_is_caught(chain: Chain) -> None:
    broken = variant(
        'context.step(lambda _: context.step(mint_idempotency_key, name="inner"), '
        'name="payment-idempotency-key")'
    )
    spy = ReplaySpy()
    with spy.installed():
        chain.run(order(), overrides={"orchestrator": broken})
    assert "step inner" in spy.nested


# --- static rules, read from the source ---------------------------------------------------------

NONDETERMINISTIC = {("uuid", "uuid4"), ("datetime", "now"), ("time", "time"), ("random", "random")}
STEP_BODIES = {"mint_order_id", "mint_idempotency_key", "create_order", "complete_order"}
STEP_BODIES |= {"cancel_order", "_validate", "_draw_delay"}


def _module_ast(name: str) -> ast.Module:
    return ast.parse((SRC_DIR / name).read_text())


@pytest.mark.parametrize("name", ["functions/orchestrator.py", "invoking.py"])
def test_durable_code_makes_no_value_outside_steps(name: str) -> None:
    """The durable modules call no clock/uuid/random, and call step bodies only by handing them
    to a step (`functools.partial(body, ...)` or the bare name), never directly."""
    tree = _module_ast(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                assert (owner.id, node.func.attr) not in NONDETERMINISTIC, ast.unparse(node)
            assert node.func.attr not in ("now", "uuid4", "uniform", "randint"), ast.unparse(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in STEP_BODIES, f"{ast.unparse(node)} runs outside a step"
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"uuid", "random", "time", "datetime", "boto3"}


def test_no_boto3_lambda_client_anywhere() -> None:
    for path in SRC_DIR.rglob("*.py"):
        text = path.read_text()
        assert 'client("lambda")' not in text and "client('lambda')" not in text, path
        assert ".invoke(" not in text or path.name == "invoking.py", path


def test_workers_are_reached_only_through_context_invoke() -> None:
    tree = _module_ast("invoking.py")
    invokes = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "invoke"
    ]
    assert [ast.unparse(n.func) for n in invokes] == ["child.invoke"]
