"""PatternCore, TableSet, FunctionSet and the Powertools service name under mocks: what every
pattern program declares through them (as terraform/pattern-root/catalog.tf does)."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from catalog.engines.pulumi_graph import ProgramRun, run_program
from catalog_pulumi import (
    FunctionSetArgs,
    FunctionSpec,
    PatternCore,
    PatternSettings,
    PolicyStatement,
    PythonFunctionArgs,
    TableSetArgs,
    TableSpec,
)

FUNCTION = "aws:lambda/function:Function"
TABLE = "aws:dynamodb/table:Table"

PROJECT_FILE = """\
name: core
runtime: python
config:
  namePrefix:
    type: string
    default: demo
"""

# Two tables (one with an underscore in its role), two functions (one published, with a layer).
PROGRAM = """\
import pulumi

from catalog_pulumi import FunctionSpec, PatternCore, PolicyStatement, TableSpec, pattern_settings

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
pattern = PatternCore(
    pattern_settings(),
    code_package="demo_pkg",
    service_name="demo-service",
    zips={"put-record": "put-record.zip", "drain": "drain.zip"},
)
tables = pattern.tables(
    {
        "records": TableSpec(hash_key="id"),
        "sensor_totals": TableSpec(hash_key="sensor", stream_view_type="NEW_IMAGE"),
    }
)
functions = pattern.functions(
    {
        "put-record": FunctionSpec(
            description="Stores a record.",
            timeout=30,
            environment={"RECORDS_TABLE": tables.names["records"]},
            policy_statements=[
                PolicyStatement(sid="Records", actions=["dynamodb:PutItem"], resources=[tables.arns["records"]])
            ],
            layers=[LAYER],
            publish=True,
        ),
        "drain": FunctionSpec(description="Drains a queue."),
    }
)
outputs = pattern.outputs({"other": "demo-other"}, ["/aws/states/other"])
for name, value in outputs.items():
    pulumi.export(name, value)
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("core")
    (folder / "Pulumi.yaml").write_text(PROJECT_FILE)
    (folder / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    for name in ("put-record", "drain"):
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
            archive.writestr("demo_pkg/functions/x.py", "def handler(event, context):\n    pass\n")
    return folder


@pytest.fixture(scope="module")
def default_run(program: Path) -> ProgramRun:
    return run_program(program)


def test_tables_are_named_by_role_and_protected_alike(program: Path) -> None:
    tables = run_program(program, {"deletionProtection": "true"}).by_name(TABLE)
    assert {t.inputs["name"] for t in tables.values()} == {"demo-records", "demo-sensor-totals"}
    assert all(t.inputs["deletionProtectionEnabled"] is True for t in tables.values())
    assert tables["sensor-totals"].inputs["streamViewType"] == "NEW_IMAGE"
    # Each table's component is a child of the set.
    assert tables["records"].parent.endswith("catalog:aws:TableSet$catalog:aws:Table::records")


def test_functions_take_name_handler_zip_and_service_from_the_key(
    default_run: ProgramRun,
) -> None:
    functions = default_run.by_name(FUNCTION)
    put, drain = functions["put-record"].inputs, functions["drain"].inputs
    assert put["name"] == "demo-put-record"
    assert put["handler"] == "demo_pkg.functions.put_record.handler"
    assert put["code"]["path"].endswith("put-record.zip")
    assert (put["timeout"], drain["timeout"]) == (30, 10)
    assert put["environment"]["variables"] == {
        "RECORDS_TABLE": "demo-records",
        "POWERTOOLS_SERVICE_NAME": "demo-service",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert drain["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"] == "demo-service"
    assert (put["publish"], drain["publish"]) == (True, False)
    assert put["layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
    assert drain.get("layers", []) == []
    assert functions["drain"].parent.endswith(
        "catalog:aws:FunctionSet$catalog:aws:PythonFunction::drain"
    )


def test_outputs_name_tables_functions_and_every_log_group(default_run: ProgramRun) -> None:
    assert default_run.outputs == {
        "table_names": {"records": "demo-records", "sensor_totals": "demo-sensor-totals"},
        "function_names": {
            "put-record": "demo-put-record",
            "drain": "demo-drain",
            "other": "demo-other",
        },
        # The functions' groups in short-name order, then the others.
        "log_group_names": [
            "/aws/lambda/demo-drain",
            "/aws/lambda/demo-put-record",
            "/aws/states/other",
        ],
    }


def test_a_function_without_service_name_gets_no_powertools_settings() -> None:
    bare = PythonFunctionArgs(function_name="f", handler="p.functions.f.handler", code_path="f.zip")
    assert bare.variables == {}
    named = PythonFunctionArgs(
        function_name="f",
        handler="p.functions.f.handler",
        code_path="f.zip",
        environment={"A": "1"},
        service_name="svc",
        powertools_log_level="DEBUG",
    )
    assert named.variables == {
        "A": "1",
        "POWERTOOLS_SERVICE_NAME": "svc",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }


SETTINGS = PatternSettings(name_prefix="demo", log_retention_days=14, deletion_protection=False)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PythonFunctionArgs(function_name="f", handler="p.f.handler", code_path="f.zip",
                                    service_name="has space"), "service_name"),
        (lambda: PythonFunctionArgs(function_name="f", handler="p.f.handler", code_path="f.zip",
                                    powertools_log_level="LOUD"), "powertools_log_level"),
        (lambda: TableSetArgs(name_prefix="demo", tables={}), "at least one entry"),
        (lambda: TableSetArgs(name_prefix="Demo", tables={"a": TableSpec(hash_key="id")}), "name_prefix"),
        (lambda: TableSetArgs(name_prefix="demo", tables={"a": "id"}), "must be a TableSpec"),
        (lambda: FunctionSetArgs(name_prefix="demo", code_package="pkg", zips={}, service_name="s",
                                 functions={"f": FunctionSpec(description="d")}), "no built zip"),
        (lambda: FunctionSetArgs(name_prefix="demo", code_package="pkg-x", zips={"f": "f.zip"},
                                 service_name="s", functions={"f": FunctionSpec(description="d")}),
         "code_package"),
        (lambda: PatternCore(SETTINGS, code_package="p", service_name="s", zips={}).outputs(),
         "before its outputs"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_naming_the_argument(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_the_sqs_consumer_statement_names_what_an_event_source_mapping_needs() -> None:
    statement = PolicyStatement.consume_queue("ConsumeQueue", "arn:aws:sqs:us-east-1:1:q")
    assert statement.sid == "ConsumeQueue"
    assert sorted(statement.actions) == [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert list(statement.resources) == ["arn:aws:sqs:us-east-1:1:q"]
    json.dumps(list(statement.actions))  # plain strings: the policy document serializes them
