"""Compensations: reverse order (read from the operations' own timestamps), one durable operation
each, and idempotent (running them again changes nothing)."""

from __future__ import annotations

from dfc_harness import STOCK, Chain, invariant_problems, order
from durable_chain.functions import inventory, notification, payment, shipping

# Forward operation -> the compensation registered for it.
UNDOES = {
    "create-order": "compensate-cancel-order",
    "reserve-inventory": "compensate-release-inventory",
    "charge-payment": "compensate-refund-payment",
    "create-shipment": "compensate-cancel-shipment",
}
HANDLERS = {
    "inventory": inventory.handler,
    "payment": payment.handler,
    "shipping": shipping.handler,
    "notification": notification.handler,
}


def test_compensations_run_in_reverse_order_of_the_steps(chain: Chain) -> None:
    outcome = chain.run(order(), faults=[("notification", "PermanentError", "before", 1)])
    assert outcome.status == "FAILED"
    failed = outcome.op("send-confirmation")
    forward = sorted((outcome.op(name) for name in UNDOES), key=lambda op: op.start)  # type: ignore[arg-type,return-value]
    backward = sorted(outcome.compensations, key=lambda op: op.start)  # type: ignore[arg-type,return-value]

    assert [UNDOES[op.name] for op in reversed(forward)] == [op.name for op in backward]
    assert failed.end is not None
    previous_end = failed.end
    for compensation in backward:  # one at a time, each after the previous one finished
        assert compensation.start is not None and compensation.end is not None
        assert compensation.start >= previous_end
        previous_end = compensation.end
    # Each compensation is its own durable operation: a step, or a child context of invokes.
    assert {op.type for op in backward} <= {"STEP", "CONTEXT"}
    assert invariant_problems(chain.snapshot(), STOCK, [outcome]) == []


def test_running_the_compensations_again_changes_nothing(chain: Chain) -> None:
    outcome = chain.run(order(), faults=[("notification", "PermanentError", "before", 1)])
    before = chain.snapshot()
    undo_calls = [
        c
        for c in outcome.calls
        if c.ok
        and isinstance(c.event, dict)
        and c.event["action"] in ("release", "refund", "cancel")
    ]
    assert len(undo_calls) == 3
    env = {**chain.ctx.aws.env(), **_table_env(chain)} if chain.ctx.aws else _table_env(chain)
    with _environment(env):
        for call in undo_calls:  # a duplicate delivery of every compensation
            worker = call.function.rsplit("-", 1)[1]
            HANDLERS[worker](call.event, None)
    assert _without_timestamps(chain.snapshot()) == _without_timestamps(before)


def _table_env(chain: Chain) -> dict[str, str]:
    return {f"{k.upper()}_TABLE": v for k, v in chain.table_names.items()}


def _environment(variables: dict[str, str]):  # type: ignore[no-untyped-def]
    from catalog.drivers.durable_local import applied_environment

    return applied_environment(variables)


def _without_timestamps(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    return {
        table: sorted(
            ({k: v for k, v in row.items() if not k.endswith("_at")} for row in items),
            key=lambda row: str(sorted(row.items())),
        )
        for table, items in rows.items()
    }
