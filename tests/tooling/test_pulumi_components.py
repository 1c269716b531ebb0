"""catalog_pulumi components under mocks: the inputs a pattern passes become the resources it gets."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from catalog.engines.pulumi_graph import ProgramRun, RecordedResource, run_program
from catalog_pulumi import PythonFunctionArgs

COMPONENT = "catalog:aws:PythonFunction"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DURABLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
OWN = "arn:aws:iam::123456789012:policy/team/orders-reader"

PROJECT_FILE = """\
name: components
runtime: python
config:
  arns:
    type: string
    default: "[]"
  publish:
    type: boolean
    default: false
"""

# One function; the managed policies and publish come from the stack config.
PROGRAM = """\
import json

import pulumi

from catalog_pulumi import PythonFunction, PythonFunctionArgs

config = pulumi.Config()
fn = PythonFunction(
    "fn",
    PythonFunctionArgs(
        function_name="demo-fn",
        handler="demo.functions.fn.handler",
        code_path="fn.zip",
        managed_policy_arns=json.loads(config.require("arns")),
        publish=config.require_bool("publish"),
    ),
)
pulumi.export("version", fn.version)
pulumi.export("role_name", fn.role_name)
pulumi.export("qualified_arn", fn.qualified_arn)
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("components")
    (folder / "Pulumi.yaml").write_text(PROJECT_FILE)
    (folder / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    with zipfile.ZipFile(folder / "fn.zip", "w") as archive:
        archive.writestr("demo/functions/fn.py", "def handler(event, context):\n    return event\n")
    return folder


def run(program: Path, arns: list[str], publish: bool) -> ProgramRun:
    return run_program(program, {"arns": json.dumps(arns), "publish": str(publish).lower()})


def of_type(run: ProgramRun, token: str) -> list[RecordedResource]:
    return [r for r in run.resources if r.type == token]


def test_managed_policies_are_attached_before_the_function_exists(program: Path) -> None:
    # A repeated ARN is attached once, as Terraform's for_each over a set does.
    result = run(program, [DURABLE, OWN, DURABLE], publish=True)
    (component,) = of_type(result, COMPONENT)
    (function,) = of_type(result, FUNCTION)
    attachments = {r.name: r for r in of_type(result, ATTACHMENT)}

    assert set(attachments) == {"fn-AWSLambdaBasicDurableExecutionRolePolicy", "fn-orders-reader"}
    assert {a.inputs["policyArn"] for a in attachments.values()} == {DURABLE, OWN}
    for attachment in attachments.values():
        assert attachment.parent == component.urn
        assert attachment.inputs["role"] == "demo-fn-role"
        assert attachment.urn in function.dependencies
    (log_group,) = of_type(result, LOG_GROUP)
    (role_policy,) = of_type(result, ROLE_POLICY)
    assert {log_group.urn, role_policy.urn} <= set(function.dependencies)

    assert function.inputs["publish"] is True
    assert result.outputs["version"] == "1"
    assert result.outputs["role_name"] == "demo-fn-role"
    assert result.outputs["qualified_arn"].endswith(":function:demo-fn:1")


def test_defaults_keep_the_function_as_it_was(program: Path) -> None:
    result = run(program, [], publish=False)
    assert of_type(result, ATTACHMENT) == []
    (function,) = of_type(result, FUNCTION)
    (log_group,) = of_type(result, LOG_GROUP)
    (role_policy,) = of_type(result, ROLE_POLICY)
    (role,) = of_type(result, ROLE)
    # Its role (an input), its log group and role policy (depends_on): nothing else.
    assert function.dependencies == tuple(sorted((log_group.urn, role.urn, role_policy.urn)))
    assert function.inputs["publish"] is False
    assert result.outputs["version"] == "$LATEST"
    assert result.outputs["role_name"] == "demo-fn-role"
    assert result.outputs.get("qualified_arn") is None  # unpublished: no qualified ARN
    default = PythonFunctionArgs(function_name="f", handler="pkg.f.handler", code_path="f.zip")
    assert (default.managed_policy_arns, default.publish) == ((), False)


def args_with(arns: object) -> PythonFunctionArgs:
    return PythonFunctionArgs(
        function_name="f",
        handler="pkg.functions.f.handler",
        code_path="f.zip",
        managed_policy_arns=arns,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "arns",
    [
        [DURABLE],
        (OWN,),
        ["arn:aws-cn:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"],
        ["arn:aws-us-gov:iam::123456789012:policy/Narrow"],
        [DURABLE, DURABLE],
    ],
)
def test_policy_arns_are_accepted(arns: list[str]) -> None:
    assert list(args_with(arns).managed_policy_arns) == list(arns)


@pytest.mark.parametrize(
    ("arns", "message"),
    [
        (["AWSLambdaBasicExecutionRole"], "must be an IAM policy ARN"),
        (["arn:aws:iam::123456789012:role/orders"], "must be an IAM policy ARN"),
        (["arn:aws:iam::aws:policy/"], "must be an IAM policy ARN"),
        (["arn:aws:s3:::bucket/policy/x"], "must be an IAM policy ARN"),
        (["arn:aws:iam::aws:policy/AdministratorAccess"], "grants broad access"),
        (["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"], "grants broad access"),
        (["arn:aws:iam::123456789012:policy/team/OrdersFullAccess"], "grants broad access"),
        ([DURABLE, "arn:aws:iam::aws:policy/AdministratorAccess"], "grants broad access"),
        (DURABLE, "not one string"),
        ([DURABLE, f"{OWN.rsplit('/', 1)[0]}/AWSLambdaBasicDurableExecutionRolePolicy"], "share"),
    ],
)
def test_policy_arns_are_rejected(arns: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        args_with(arns)
