"""Both engines declare the durable orchestrator the same way: durable_config, published version
and alias, the durable execution managed policy, invoke rights on the worker aliases only, and the
same outputs. Pulumi runs under mocks; Terraform is read from the HCL (the plan on the embedded AWS
runs in the shared suite, adapted for the offline provider)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

from catalog.engines.pulumi_graph import ProgramRun, run_program
from catalog.resources import output_names

PATTERN_DIR = Path(__file__).resolve().parents[1]
FUNCTION = "aws:lambda/function:Function"
COMPONENT = "catalog:aws:PythonFunction"
ALIAS = "aws:lambda/alias:Alias"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "AWSLambdaBasicDurableExecutionRolePolicy"
OUTPUTS = {
    "orchestrator_alias_arn",
    "function_names",
    "table_names",
    "log_group_names",
}
WORKERS = ("inventory", "payment", "shipping", "notification")


@pytest.fixture(scope="module")
def program() -> ProgramRun:
    return run_program(PATTERN_DIR / "pulumi")


def test_pulumi_orchestrator_is_durable_published_and_aliased(program: ProgramRun) -> None:
    functions = program.by_name(FUNCTION)
    assert set(functions) == {"orchestrator", *WORKERS}
    assert functions["orchestrator"].inputs["durableConfig"] == {
        "executionTimeout": 8 * 24 * 3600,
        "retentionPeriod": 14,
    }
    assert all(fn.inputs["publish"] is True for fn in functions.values())
    assert all("durableConfig" not in functions[w].inputs for w in WORKERS)
    aliases = program.by_name(ALIAS)
    assert set(aliases) == {f"{name}-live" for name in functions}
    assert all(
        a.inputs["name"] == "live" and a.inputs["functionVersion"] == "1" for a in aliases.values()
    )
    env = functions["orchestrator"].inputs["environment"]["variables"]
    assert {env[f"{w.upper()}_FUNCTION"] for w in WORKERS} == {
        f"durable-chain-{w}:live" for w in WORKERS
    }


def test_pulumi_orchestrator_role_is_least_privilege(program: ProgramRun) -> None:
    (attachment,) = program.by_name(ATTACHMENT).values()
    assert attachment.inputs["policyArn"] == (
        f"arn:aws:iam::aws:policy/service-role/{MANAGED_POLICY}"
    )
    assert attachment.inputs["role"] == "durable-chain-orchestrator-role"
    # Through the component: its child, and in place before the function is created.
    assert attachment.parent == program.by_name(COMPONENT)["orchestrator"].urn
    assert attachment.urn in program.by_name(FUNCTION)["orchestrator"].dependencies
    policy = json.loads(program.by_name(ROLE_POLICY)["orchestrator-policy"].inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["InvokeWorkerAliases"]["Action"] == ["lambda:InvokeFunction"]
    # Exactly the worker aliases, never a wildcard or an unqualified function.
    invoke_targets = statements["InvokeWorkerAliases"]["Resource"]
    assert sorted(invoke_targets) == sorted(
        f"arn:aws:lambda:us-east-1:123456789012:function:durable-chain-{w}:live" for w in WORKERS
    )
    assert statements["OrdersTable"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/durable-chain-orders"
    ]
    for statement in policy["Statement"]:
        assert all("*" not in action for action in statement["Action"])


def test_pulumi_outputs_match_terraform(program: ProgramRun) -> None:
    assert set(program.outputs) == OUTPUTS == output_names(PATTERN_DIR / "terraform")
    assert len(program.outputs["log_group_names"]) == 5


def _hcl(name: str) -> dict[str, Any]:
    with open(PATTERN_DIR / "terraform" / name) as handle:
        return hcl2.load(handle)


def _resource(data: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """python-hcl2 8.x keeps the quotes of labels and strings."""
    for block in data.get("resource", []):
        if f'"{kind}"' in block and f'"{name}"' in block[f'"{kind}"']:
            return block[f'"{kind}"'][f'"{name}"']
    raise AssertionError(f"{kind}.{name} not declared")


def test_terraform_pins_a_provider_with_durable_config() -> None:
    # The root states no range of its own: the python-function module its orchestrator uses
    # does, and Terraform applies every module's constraint to the root.
    versions = _hcl("versions.tf")
    assert "version" not in versions["terraform"][0]["required_providers"][0]["aws"]
    orchestrator = _module(_hcl("main.tf"), "orchestrator")
    module = (PATTERN_DIR / "terraform" / orchestrator["source"].strip('"')).resolve()
    with open(module / "versions.tf") as handle:
        aws = hcl2.load(handle)["terraform"][0]["required_providers"][0]["aws"]
    assert aws["version"].strip('"') == ">= 6.25, < 7.0"  # durable_config arrived in 6.25.0


def _module(data: dict[str, Any], name: str) -> dict[str, Any]:
    (call,) = [block[f'"{name}"'] for block in data["module"] if f'"{name}"' in block]
    return call


def test_terraform_orchestrator_is_durable_published_and_aliased() -> None:
    main = _hcl("main.tf")
    orchestrator = _module(main, "orchestrator")
    # The shared module, like every function of the catalog (its log group, role, depends_on).
    assert orchestrator["source"].strip('"').endswith("terraform/modules/python-function")
    assert orchestrator["publish"] is True
    assert set(orchestrator["durable_config"]) - {"__is_block__"} == {
        "execution_timeout",
        "retention_period",
    }
    (managed,) = orchestrator["managed_policy_arns"]
    assert managed.endswith(f'service-role/{MANAGED_POLICY}"')
    alias = _resource(main, "aws_lambda_alias", "orchestrator")
    assert "module.orchestrator.version" in alias["function_version"]
    workers_alias = _resource(main, "aws_lambda_alias", "workers")
    assert workers_alias["name"] == "${local.alias_name}"
    assert workers_alias["function_version"] == "${each.value.version}"
    assert '"live"' in str(main["locals"])


def test_terraform_workers_are_published_by_the_shared_module() -> None:
    # catalog.tf passes local.functions (the workers) to python-functions, which calls
    # python-function once per entry with that entry's publish and layers.
    (functions,) = [b['"functions"'] for b in _hcl("catalog.tf")["module"] if '"functions"' in b]
    assert functions["source"].strip('"').endswith("terraform/modules/python-functions")
    assert functions["functions"] == "${local.functions}"
    (workers,) = [b["functions"] for b in _hcl("main.tf")["locals"] if "functions" in b]
    assert "for key, worker in local.workers" in workers
    assert "publish = true" in workers and "layers = [module.dependencies.arn]" in workers
