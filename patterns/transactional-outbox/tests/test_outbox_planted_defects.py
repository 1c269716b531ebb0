"""Planted defects: a deliberately broken copy of the consumer runs on the deployed stack, and the
exactly-once checks must fail, naming the event applied twice.

The broken build is swapped into the deployed function for the test only; the original build is
put back afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outbox_e2e import Snapshot, invariant_problems, new_key, post
from test_outbox_end_to_end import _applications

from catalog.drivers.http_api import HttpApiRun
from catalog.testing import broken_build, running_code

PATTERN_DIR = Path(__file__).resolve().parents[1]
# The ledger entry no longer guards the totals: a redelivered event is applied again.
APPLIES_EVERY_DELIVERY = ((r'\s*"ConditionExpression": "attribute_not_exists\(pk\)",', ""),)


def test_a_consumer_without_its_guard_fails_exactly_once(outbox_stack: Any, tmp_path: Path) -> None:
    run = HttpApiRun(outbox_stack.context())
    aws = outbox_stack.aws
    aws.faults.clear()
    code, original = broken_build(
        PATTERN_DIR, tmp_path, "consumer", "transactional_outbox/ledger.py", *APPLIES_EVERY_DELIVERY
    )
    before = Snapshot.read(run)
    customer = new_key("planted")
    body = {"customer_id": customer, "items": [{"sku": "P-1", "quantity": 1, "unit_price": "4.00"}]}
    consumer = run.function_names["consumer"]
    with running_code(run.client("lambda"), consumer, code, original):
        # The consumer applies the event, then its response is lost: the queue redelivers it.
        aws.faults.add(consumer, "TransientError", "after", 1)
        exchange = post(run, body, key=new_key("planted"))
        assert exchange.status == 201, exchange.body
        run.settle()
    aws.faults.clear()
    after = Snapshot.read(run)
    assert _applications(before, after, exchange.body) == 2
    order = exchange.body
    # Caught on the rows one run can have changed (what each randomized run checks) and on all.
    one_run = before.refreshed(run, {order["order_id"]}, {order["event_id"]}, {customer})
    for snapshot in (one_run, after):
        problems = invariant_problems(snapshot)
        assert any(f"customer {customer}: order_count 2, orders 1" in p for p in problems), problems
    # Remove what this test wrote, so the invariants hold again for the tests that follow.
    tables, client = run.outputs["table_names"], run.client("dynamodb")
    for table, key in (
        ("orders", {"order_id": order["order_id"]}),
        ("outbox", {"event_id": order["event_id"]}),
        ("ledger", {"pk": f"EVENT#{order['event_id']}"}),
        ("ledger", {"pk": f"CUSTOMER#{customer}"}),
    ):
        client.delete_item(TableName=tables[table], Key={k: {"S": v} for k, v in key.items()})
    assert invariant_problems(Snapshot.read(run)) == []
