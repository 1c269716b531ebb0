"""The `durable_local` driver: report building, environment, fault wrapping, and one end-to-end run
of the durable-function-chaining pattern against tables in in-process moto (no Terraform)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from moto import mock_aws

from catalog.drivers import DriverContext, DriverError, durable_operations, get_driver
from catalog.drivers import durable_local as driver
from catalog.drivers.base import ReportSpec
from catalog.localaws.faults import FaultInjector
from catalog.patterns import load
from catalog.scenarios import Fault, Scenario

PATTERN = load("durable-function-chaining")
if str(PATTERN.root / "src") not in sys.path:
    sys.path.insert(0, str(PATTERN.root / "src"))  # as the driver does, for `durable_chain.tables`
KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
WORKERS = ("inventory", "payment", "shipping", "notification")


def op(kind: str, name: str, status: str = "SUCCEEDED", **extra: Any) -> SimpleNamespace:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return SimpleNamespace(
        operation_type=SimpleNamespace(value=kind),
        name=name,
        operation_id=name,
        status=SimpleNamespace(value=status),
        start_timestamp=start,
        end_timestamp=start + timedelta(seconds=extra.pop("seconds", 1)),
        **extra,
    )


def test_registered_under_its_kind() -> None:
    assert get_driver("durable_local") is driver.run_scenario


@pytest.mark.parametrize(
    ("wire", "short"),
    [
        ("durable_chain.errors.PaymentDeclinedError", "PaymentDeclinedError"),
        ("PaymentDeclinedError", "PaymentDeclinedError"),
        ("Sandbox.Timedout", "Sandbox.Timedout"),
        (None, None),
    ],
)
def test_short_error_name(wire: str | None, short: str | None) -> None:
    assert durable_operations.short_error_name(wire) == short


def test_injected_errors_are_reported_by_their_bare_name_like_lambda() -> None:
    error_type = driver.injected_error("TransientError")
    assert driver.injected_error("TransientError") is error_type  # one class per name
    assert ErrorObject.from_exception(error_type("boom")).type == "TransientError"
    assert ErrorObject.from_exception(driver.injected_error("Sandbox.Timedout")()).type == (
        "Sandbox.Timedout"
    )


def test_step_records_count_attempts_and_mark_compensations() -> None:
    invokes = [op("CHAINED_INVOKE", f"attempt-{n}") for n in (1, 2, 3)]
    retried = op("CONTEXT", "reserve-inventory", child_operations=invokes)
    step = op("STEP", "create-order", attempt=2, child_operations=[])
    wait = op("WAIT", "settlement-period", seconds=3600)
    undo = op("CONTEXT", "compensate-refund-payment", child_operations=invokes[:1])
    failed = op("STEP", "validate-order", status="FAILED", attempt=1, child_operations=[])
    report = ReportSpec(compensations=("compensate-*",))
    records = [
        durable_operations.step_record(o, report) for o in (retried, step, wait, undo, failed)
    ]
    assert [(r.name, r.kind, r.attempts, r.ok) for r in records] == [
        ("reserve-inventory", "invoke", 3, True),
        ("create-order", "step", 2, True),
        ("settlement-period", "wait", 1, True),
        ("compensate-refund-payment", "compensation", 1, True),
        ("validate-order", "step", 1, False),
    ]
    described = [durable_operations.describe_operation(o) for o in (retried, wait)]
    assert durable_operations.virtual_seconds(described) == 3600


def test_environment_precedence_and_restore(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = DriverContext(
        pattern=PATTERN,
        outputs={"table_names": {"orders": "o-table"}},
    )
    worker = driver.FunctionSetup("payment", "p-payment", print, {"PAYMENTS_TABLE": "deployed"})
    orchestrator = driver.FunctionSetup(
        "orchestrator", "p-orchestrator", print, {"PAYMENT_FUNCTION": "p-payment:blue"}
    )
    merged = driver.merged_environment(ctx, orchestrator, {"payment": worker})
    assert merged["ORDERS_TABLE"] == "o-table"  # from outputs
    assert merged["PAYMENTS_TABLE"] == "deployed"  # deployed configuration wins
    assert merged["PAYMENT_FUNCTION"] == "p-payment:blue"  # over the `name:live` fallback
    monkeypatch.setenv("ORDERS_TABLE", "before")
    monkeypatch.delenv("PAYMENTS_TABLE", raising=False)
    with driver.applied_environment(merged):
        assert os.environ["ORDERS_TABLE"] == "o-table"
    assert os.environ["ORDERS_TABLE"] == "before" and "PAYMENTS_TABLE" not in os.environ


def test_missing_outputs_and_unknown_overrides_are_driver_errors() -> None:
    for outputs in ({}, {"function_names": {"inventory": "x-inventory"}}):
        with pytest.raises(DriverError, match="function_names with 'orchestrator'"):
            driver.resolve_functions(DriverContext(pattern=PATTERN, outputs=outputs))
    with pytest.raises(DriverError, match="and the workers"):
        outputs = {"function_names": {"orchestrator": "x-orchestrator"}}
        driver.resolve_functions(DriverContext(pattern=PATTERN, outputs=outputs))
    outputs = {"function_names": {"orchestrator": "x-orchestrator", "inventory": "x-inventory"}}
    with mock_aws(), pytest.raises(DriverError, match="unknown function"):  # no real endpoint
        driver.resolve_functions(
            DriverContext(pattern=PATTERN, outputs=outputs), {"billing": print}
        )


# --- one real run, tables in in-process moto ---------------------------------------------------


@pytest.fixture
def moto_ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[DriverContext]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        from durable_chain import tables

        tables.reset_clients()
        client = boto3.client("dynamodb")
        names = {logical: f"drv-{logical}" for logical in KEYS}
        for logical, name in names.items():
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": KEYS[logical], "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEYS[logical], "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        for sku, stock in (("SKU-BOOK", 5), ("SKU-PEN", 10)):
            client.put_item(
                TableName=names["inventory"], Item={"sku": {"S": sku}, "stock": {"N": str(stock)}}
            )
        outputs = {
            "function_names": {"orchestrator": "drv-orchestrator"}
            | {w: f"drv-{w}" for w in WORKERS},
            "table_names": names,
        }
        yield DriverContext(pattern=PATTERN, outputs=outputs, aws=FakeAws())  # type: ignore[arg-type]
        tables.reset_clients()


class FakeAws:
    """What the driver uses of LocalAws, backed by in-process moto."""

    def __init__(self) -> None:
        self.faults = FaultInjector()
        self.invocations: list[Any] = []

    def env(self) -> dict[str, str]:
        return {}

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")


def scenario(name: str, faults: tuple[Fault, ...] = ()) -> Scenario:
    base = PATTERN.scenarios[name]
    return Scenario(name, base.description, base.input, faults, base.seed, base.expect)


def test_a_run_reports_operations_attempts_faults_and_related_rows(
    moto_ctx: DriverContext,
) -> None:
    driver.run_scenario(moto_ctx, scenario("success"))  # an earlier order, not to be reported
    faults = (
        Fault("payment", "TransientError", "after", 1),
        Fault("shipping", "PermanentError", "before", 1),
    )
    result = driver.run_scenario(moto_ctx, scenario("success", faults))

    assert (result.status, result.error) == ("FAILED", "StepFailedError")
    steps = {s.name: s for s in result.steps}
    assert steps["charge-payment"].attempts == 2 and steps["charge-payment"].ok
    assert not steps["create-shipment"].ok
    assert result.compensations == [
        "compensate-cancel-shipment",
        "compensate-refund-payment",
        "compensate-release-inventory",
        "compensate-cancel-order",
    ]
    calls = result.details["worker_calls"]
    charge_calls = [c for c in calls if c["action"] == "charge"]
    assert [c["injected"] for c in charge_calls] == ["after", None]
    assert next(c["injected"] for c in calls if c["function"] == "drv-shipping") == "before"
    # Only this execution's rows (plus the stock rows of its SKUs) are reported.
    assert [o["status"] for o in result.tables["orders"]] == ["CANCELLED"]
    assert [p["status"] for p in result.tables["payments"]] == ["REFUNDED"]
    assert {r["sku"] for r in result.tables["inventory"]} >= {"SKU-BOOK", "SKU-PEN"}
    assert json.dumps(result.details, default=str)  # the report serialises
    assert result.duration_s > 0
    # Every worker call also lands in the embedded AWS's invocation log.
    assert [i.injected for i in moto_ctx.aws.invocations if i.function_name == "drv-shipping"] == [  # type: ignore[union-attr]
        None,
        "before",
        None,
    ]


def test_faults_are_not_injected_against_real_aws(moto_ctx: DriverContext) -> None:
    real = DriverContext(pattern=PATTERN, outputs=moto_ctx.outputs, aws=None)
    faults = (Fault("inventory", "TransientError", "before", 3),)
    result = driver.run_scenario(real, scenario("success", faults))
    assert result.status == "SUCCEEDED"
    assert {s.name: s.attempts for s in result.steps}["reserve-inventory"] == 1
