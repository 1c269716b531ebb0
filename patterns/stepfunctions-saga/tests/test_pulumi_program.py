"""The Pulumi program of the saga under mocks: what it declares, with every resource option."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from catalog.engines.pulumi_graph import ProgramRun, RecordedResource, run_program
from catalog.resources import output_names

PATTERN_DIR = Path(__file__).resolve().parents[1]
PROGRAM_DIR = PATTERN_DIR / "pulumi"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TABLE = "aws:dynamodb/table:Table"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

# The least-privilege matrix the pattern promises (function -> table -> actions).
TABLE_ACCESS: dict[str, dict[str, set[str]]] = {
    "create-order": {"orders": {"dynamodb:PutItem"}},
    "reserve-inventory": {"inventory": {"dynamodb:UpdateItem"}, "orders": {"dynamodb:UpdateItem"}},
    "charge-payment": {
        "payments": {"dynamodb:PutItem", "dynamodb:GetItem"},
        "orders": {"dynamodb:UpdateItem"},
    },
    "ship-order": {"orders": {"dynamodb:UpdateItem"}},
    "refund-payment": {
        "payments": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "orders": {"dynamodb:UpdateItem"},
    },
    "release-inventory": {"inventory": {"dynamodb:UpdateItem"}, "orders": {"dynamodb:UpdateItem"}},
    "cancel-order": {"orders": {"dynamodb:UpdateItem"}},
}
TABLE_KEYS = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}


# Every run of the program under mocks builds the zips: once per module is enough.
pytestmark = pytest.mark.usefixtures("zips_built_once")


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    return run_program(PROGRAM_DIR)


def one(run: ProgramRun, token: str, **inputs: Any) -> RecordedResource:
    found = [r for r in run.of_type(token) if all(r.inputs.get(k) == v for k, v in inputs.items())]
    assert len(found) == 1, f"{token} {inputs}: {len(found)} found"
    return found[0]


def table_access(policy: str, table_arns: dict[str, str]) -> dict[str, set[str]]:
    """The policy's table statements as table -> actions (only the table ARNs may appear)."""
    by_arn = {arn: key for key, arn in table_arns.items()}
    access: dict[str, set[str]] = {}
    for statement in json.loads(policy)["Statement"]:
        if statement["Sid"] == "WriteOwnLogGroup":
            continue
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            access.setdefault(by_arn[resource], set()).update(statement["Action"])
    return access


def test_seven_functions_each_write_to_an_own_log_group_with_retention(
    default_run: ProgramRun,
) -> None:
    functions = default_run.of_type(FUNCTION)
    assert sorted(f.name for f in functions) == sorted(TABLE_ACCESS)
    tables = {key: f"sfn-saga-{key}" for key in TABLE_KEYS}
    for function in functions:
        short = function.name
        inputs = function.inputs
        assert inputs["name"] == f"sfn-saga-{short}"
        assert inputs["handler"] == f"sfn_saga.functions.{short.replace('-', '_')}.handler"
        assert (inputs["runtime"], inputs["architectures"]) == ("python3.13", ["x86_64"])
        assert inputs["code"] == {
            "kind": "FileArchive",
            "path": str(PATTERN_DIR.resolve() / "build" / f"{short}.zip"),
        }
        assert inputs["environment"]["variables"] == {
            "ORDERS_TABLE": tables["orders"],
            "INVENTORY_TABLE": tables["inventory"],
            "PAYMENTS_TABLE": tables["payments"],
            "POWERTOOLS_SERVICE_NAME": "stepfunctions-saga",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        group = one(default_run, LOG_GROUP, name=f"/aws/lambda/sfn-saga-{short}")
        assert group.inputs["retentionInDays"] == 14
        assert inputs["loggingConfig"] == {
            "logFormat": "JSON",
            "logGroup": group.inputs["name"],
            "applicationLogLevel": "INFO",
            "systemLogLevel": "INFO",
        }
        assert group.urn in function.dependencies
        policy = one(default_run, ROLE_POLICY, role=f"sfn-saga-{short}-role")
        assert policy.urn in function.dependencies
        assert function.parent == group.parent  # both children of the PythonFunction component
        assert function.parent and function.parent.endswith(f"catalog:aws:PythonFunction::{short}")


def test_the_state_machine_logs_to_its_own_group_and_invokes_exactly_the_functions(
    default_run: ProgramRun,
) -> None:
    machine = one(default_run, STATE_MACHINE)
    group = one(default_run, LOG_GROUP, name="/aws/vendedlogs/states/sfn-saga-order-saga")
    assert group.inputs["retentionInDays"] == 14
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group.inputs['name']}"
    assert machine.inputs["name"] == "sfn-saga-order-saga"
    assert machine.inputs["type"] == "STANDARD"
    assert machine.inputs["loggingConfiguration"] == {
        "logDestination": f"{group_arn}:*",
        "includeExecutionData": True,
        "level": "ALL",
    }
    assert group.urn in machine.dependencies

    function_arns = {
        f"arn:aws:lambda:us-east-1:123456789012:function:{f.inputs['name']}"
        for f in default_run.of_type(FUNCTION)
    }
    definition = machine.inputs["definition"]
    assert "${" not in definition
    resources_in_definition = {
        state["Resource"]
        for state in json.loads(definition)["States"].values()
        if state.get("Type") == "Task"
    }
    assert resources_in_definition == function_arns

    policy = json.loads(
        one(default_run, ROLE_POLICY, role="sfn-saga-order-saga-sfn-role").inputs["policy"]
    )
    invoke = next(s for s in policy["Statement"] if s["Sid"] == "InvokeTaskFunctions")
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert set(invoke["Resource"]) == function_arns | {f"{arn}:*" for arn in function_arns}
    star = [s for s in policy["Statement"] if "*" in s["Resource"]]
    assert [s["Sid"] for s in star] == ["LogDeliveryResourceStarOnly"]
    assert all(a.startswith("logs:") and not a.endswith("*") for a in star[0]["Action"])


def test_iam_grants_exactly_the_table_matrix(default_run: ProgramRun) -> None:
    table_arns = {
        key: f"arn:aws:dynamodb:us-east-1:123456789012:table/sfn-saga-{key}" for key in TABLE_KEYS
    }
    for short, expected in TABLE_ACCESS.items():
        policy = one(default_run, ROLE_POLICY, role=f"sfn-saga-{short}-role").inputs["policy"]
        assert table_access(policy, table_arns) == expected, short
        own = next(s for s in json.loads(policy)["Statement"] if s["Sid"] == "WriteOwnLogGroup")
        assert own["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert own["Resource"] == [
            f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/sfn-saga-{short}:*"
        ]


def test_three_tables_destroyable_by_default(default_run: ProgramRun) -> None:
    tables = {t.name: t.inputs for t in default_run.of_type(TABLE)}
    assert set(tables) == set(TABLE_KEYS)
    for key, inputs in tables.items():
        assert inputs["name"] == f"sfn-saga-{key}"
        assert inputs["hashKey"] == TABLE_KEYS[key]
        assert inputs["attributes"] == [{"name": TABLE_KEYS[key], "type": "S"}]
        assert inputs["billingMode"] == "PAY_PER_REQUEST"
        assert inputs["serverSideEncryption"] == {"enabled": True}
        assert inputs["deletionProtectionEnabled"] is False


def test_deletion_protection_is_one_config_value() -> None:
    run = run_program(PROGRAM_DIR, {"deletionProtection": "true"})
    assert [t.inputs["deletionProtectionEnabled"] for t in run.of_type(TABLE)] == [True] * 3


def test_nothing_is_protected_or_retained(default_run: ProgramRun) -> None:
    assert default_run.resources
    flagged = [r.urn for r in default_run.resources if r.protect or r.retain_on_delete]
    assert flagged == []


def test_outputs_match_the_terraform_outputs(default_run: ProgramRun) -> None:
    outputs = default_run.outputs
    assert set(outputs) == output_names(PATTERN_DIR / "terraform")
    assert outputs["state_machine_name"] == "sfn-saga-order-saga"
    assert outputs["state_machine_arn"].endswith(":stateMachine:sfn-saga-order-saga")
    assert outputs["table_names"] == {key: f"sfn-saga-{key}" for key in TABLE_KEYS}
    assert outputs["function_names"] == {short: f"sfn-saga-{short}" for short in TABLE_ACCESS}
    assert outputs["log_group_names"] == [
        *(f"/aws/lambda/sfn-saga-{short}" for short in sorted(TABLE_ACCESS)),
        "/aws/vendedlogs/states/sfn-saga-order-saga",
    ]


def test_retention_and_prefix_come_from_config() -> None:
    run = run_program(PROGRAM_DIR, {"logRetentionDays": "30", "namePrefix": "shop"})
    groups = run.of_type(LOG_GROUP)
    assert len(groups) == 8 and {g.inputs["retentionInDays"] for g in groups} == {30}
    assert run.outputs["state_machine_name"] == "shop-order-saga"


def test_a_retention_cloudwatch_rejects_fails_clearly() -> None:
    with pytest.raises(ValueError, match=r"logRetentionDays=10 .*one of: 1, 3, 5, 7, 14"):
        run_program(PROGRAM_DIR, {"logRetentionDays": "10"})


def test_a_copy_of_the_pattern_runs_its_own_program(
    tmp_path: Path, default_run: ProgramRun
) -> None:
    copy = tmp_path / PATTERN_DIR.name
    shutil.copytree(
        PATTERN_DIR,
        copy,
        ignore=shutil.ignore_patterns("build", "tests", "terraform", "venv", "__pycache__"),
    )
    matrix = copy / "pulumi" / "saga_matrix.py"
    text = matrix.read_text()
    shipped = '"Saga step: marks the order shipped.",\n        {"orders": ("dynamodb:UpdateItem",'
    matrix.write_text(text.replace(shipped, f'{shipped} "dynamodb:DeleteItem"'))
    assert matrix.read_text() != text, "the edit must apply"

    broken = run_program(copy / "pulumi")
    policy = one(broken, ROLE_POLICY, role="sfn-saga-ship-order-role").inputs["policy"]
    assert "dynamodb:DeleteItem" in policy
    ship = one(broken, FUNCTION, name="sfn-saga-ship-order")
    assert ship.inputs["code"]["path"] == str(copy.resolve() / "build" / "ship-order.zip")
    # The original is untouched by the copy's run.
    assert run_program(PROGRAM_DIR).resources == default_run.resources
