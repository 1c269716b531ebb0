"""Static checks of statemachine/saga.asl.json: linters, placeholders, retry and catch policy."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from sfn_saga import errors
from statelint.linter import Linter

PATTERN_DIR = Path(__file__).resolve().parents[1]
DEFINITION = PATTERN_DIR / "statemachine" / "saga.asl.json"
FUNCTIONS_DIR = PATTERN_DIR / "src" / "sfn_saga" / "functions"

PLACEHOLDERS = {
    "CreateOrderFunctionArn": "create-order",
    "ReserveInventoryFunctionArn": "reserve-inventory",
    "ChargePaymentFunctionArn": "charge-payment",
    "ShipOrderFunctionArn": "ship-order",
    "RefundPaymentFunctionArn": "refund-payment",
    "ReleaseInventoryFunctionArn": "release-inventory",
    "CancelOrderFunctionArn": "cancel-order",
}
RETRYABLE = {
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.TooManyRequestsException",
    "Lambda.SdkClientException",
}
NEVER_RETRIED = {
    "InvalidOrderError",
    "DuplicateOrderError",
    "OutOfStockError",
    "PaymentDeclinedError",
}
FORWARD = ["CreateOrder", "ReserveInventory", "ChargePayment", "ShipOrder"]
COMPENSATIONS = ["RefundPayment", "ReleaseInventory", "CancelOrder"]


def rendered() -> str:
    """The definition with fake ARNs, as Terraform's templatefile / the Pulumi program render it."""
    return re.sub(
        r"\$\{(\w+)\}",
        lambda m: f"arn:aws:lambda:us-east-1:123456789012:function:saga-{PLACEHOLDERS[m[1]]}",
        DEFINITION.read_text(),
    )


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads(rendered())


def test_placeholders_are_exactly_the_seven_function_arns():
    text = DEFINITION.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(PLACEHOLDERS)
    # templatefile would try to interpret any other interpolation or directive
    assert text.count("${") == len(PLACEHOLDERS) and "%{" not in text


def test_every_placeholder_names_a_function_module():
    modules = {p.stem.replace("_", "-") for p in FUNCTIONS_DIR.glob("*.py") if p.stem != "__init__"}
    assert modules == set(PLACEHOLDERS.values())


def test_statelint_reports_no_problem():
    assert Linter.validate(rendered()) == []


def test_cfn_lint_e3601_accepts_the_definition(definition):
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Saga": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/saga",
                    "Definition": definition,  # object form: the string form can crash E3601
                },
            }
        },
    }
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_error_names_in_the_definition_are_the_handler_exception_classes(definition):
    classes = {name for name, obj in inspect.getmembers(errors, inspect.isclass)}
    named = set()
    for state in definition["States"].values():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            named |= {e for e in rule["ErrorEquals"] if "." not in e}
    assert named <= classes
    assert named >= NEVER_RETRIED


def test_only_transient_and_lambda_service_errors_are_retried(definition):
    for name in FORWARD + COMPENSATIONS:
        retriers = definition["States"][name]["Retry"]
        assert retriers, name
        for retrier in retriers:
            assert set(retrier["ErrorEquals"]) == RETRYABLE, name
            assert retrier["JitterStrategy"] == "FULL"
            assert retrier["BackoffRate"] > 1 and retrier["IntervalSeconds"] >= 1
            assert retrier["MaxDelaySeconds"] >= retrier["IntervalSeconds"]


def test_compensations_retry_more_than_the_forward_steps(definition):
    most_forward = max(definition["States"][n]["Retry"][0]["MaxAttempts"] for n in FORWARD)
    for name in COMPENSATIONS:
        assert definition["States"][name]["Retry"][0]["MaxAttempts"] >= max(8, most_forward + 1)


def test_every_catch_keeps_the_original_input_and_the_error(definition):
    for name, state in definition["States"].items():
        for catcher in state.get("Catch", []):
            assert catcher.get("ResultPath", "$") not in ("$", None), name


def _path_after(definition: dict[str, Any], start: str) -> list[str]:
    """States visited from `start` following Next (Choice: Default) until a terminal state."""
    path, name = [], start
    while True:
        path.append(name)
        state = definition["States"][name]
        if state["Type"] in ("Fail", "Succeed"):
            return path
        name = state["Next"] if "Next" in state else state["Default"]


def _catch_target(definition: dict[str, Any], state: str, error: str) -> str:
    for catcher in definition["States"][state]["Catch"]:
        if error in catcher["ErrorEquals"] or "States.ALL" in catcher["ErrorEquals"]:
            return catcher["Next"]
    raise AssertionError(f"{state} does not catch {error}")


@pytest.mark.parametrize(
    ("state", "error", "expected"),
    [
        ("CreateOrder", "InvalidOrderError", ["OrderRejected"]),
        ("CreateOrder", "DuplicateOrderError", ["OrderRejected"]),
        # outcome unknown (retries exhausted): undo the step itself too, each undo is a no-op if
        # the step never happened
        ("CreateOrder", "TransientError", ["CancelOrder", "CompensationsDone", "OrderFailed"]),
        (
            "ReserveInventory",
            "OutOfStockError",
            ["CancelOrder", "CompensationsDone", "OrderFailed"],
        ),
        (
            "ReserveInventory",
            "TransientError",
            ["ReleaseInventory", "CancelOrder", "CompensationsDone", "OrderFailed"],
        ),
        (
            "ChargePayment",
            "PaymentDeclinedError",
            ["ReleaseInventory", "CancelOrder", "CompensationsDone", "OrderFailed"],
        ),
        (
            "ChargePayment",
            "TransientError",
            [
                "RefundPayment",
                "ReleaseInventory",
                "CancelOrder",
                "CompensationsDone",
                "OrderFailed",
            ],
        ),
        (
            "ShipOrder",
            "OrderStateError",
            [
                "RefundPayment",
                "ReleaseInventory",
                "CancelOrder",
                "CompensationsDone",
                "OrderFailed",
            ],
        ),
    ],
)
def test_failures_compensate_in_reverse_order(definition, state, error, expected):
    assert _path_after(definition, _catch_target(definition, state, error)) == expected


def test_a_compensation_that_gives_up_still_lets_the_others_run(definition):
    for name in COMPENSATIONS:
        (catcher,) = definition["States"][name]["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"]
        assert catcher["Next"] == definition["States"][name]["Next"]
        assert catcher["ResultPath"] != "$.error"  # the saga's own error stays the one reported
    choice = definition["States"]["CompensationsDone"]
    assert choice["Choices"][0]["Next"] == "CompensationFailed"
    assert definition["States"]["CompensationFailed"]["Error"] == "CompensationFailed"


def test_the_happy_path_runs_the_four_steps_in_order(definition):
    assert _path_after(definition, definition["StartAt"]) == [*FORWARD, "OrderShipped"]


def test_failed_saga_reports_the_original_error(definition):
    for name in ("OrderFailed", "OrderRejected"):
        assert definition["States"][name]["ErrorPath"] == "$.error.Error"
        assert definition["States"][name]["CausePath"] == "$.error.Cause"


# ------------------------------------------------------------------------------ scenario files

SCENARIOS_DIR = PATTERN_DIR / "events"
FUNCTION_NAMES = set(PLACEHOLDERS.values())


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_scenario_files_follow_the_contract(path: Path):
    from catalog.scenarios import load_scenario

    scenario = load_scenario(path)  # the catalog's own loader: format errors raise here
    assert scenario.description
    assert scenario.expected_status in ("SUCCEEDED", "FAILED")
    error_names = {name for name, _ in inspect.getmembers(errors, inspect.isclass)}
    assert scenario.expected_error in {None, "CompensationFailed"} | error_names
    assert {fault.function for fault in scenario.faults} <= FUNCTION_NAMES
    # every run needs stock to reserve from: seeded by logical table name
    assert set(scenario.seed) <= {"orders", "inventory", "payments"}
    assert all({"sku", "stock"} <= set(item) for item in scenario.seed.get("inventory", []))
    assert scenario.seed.get("inventory"), "seed the inventory the order draws from"


def test_the_five_scenarios_exist():
    assert {p.stem for p in SCENARIOS_DIR.glob("*.json")} == {
        "success",
        "payment-declined",
        "out-of-stock",
        "invalid-input",
        "transient-failures",
    }
