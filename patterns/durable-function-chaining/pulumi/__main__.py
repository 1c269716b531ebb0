"""Order chaining with Lambda durable functions, the Pulumi twin of ../terraform: same resources,
same outputs. Config: namePrefix (durable-chain), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from catalog.packaging import build_layer, build_pattern
from catalog_pulumi import (
    DurableConfig,
    FunctionSpec,
    LambdaLayer,
    LambdaLayerArgs,
    PatternCore,
    PolicyStatement,
    PythonFunction,
    PythonFunctionArgs,
    TableSpec,
    pattern_settings,
)

PATTERN_DIR = Path(__file__).resolve().parent.parent
SERVICE = "durable-function-chaining"
ALIAS = "live"
TABLES = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
# Worker -> (description, table it may use). Same least-privilege matrix as ../terraform.
WORKERS = {
    "inventory": (
        "Order chain worker: reserves and releases stock (conditional transactions).",
        "inventory",
    ),
    "payment": ("Order chain worker: charges and refunds, once per idempotency key.", "payments"),
    "shipping": ("Order chain worker: creates and cancels shipments with the carrier.", None),
    "notification": ("Order chain worker: sends the order confirmation.", None),
}

settings = pattern_settings()
prefix = settings.name_prefix
zips = build_pattern(PATTERN_DIR)
pattern = PatternCore(settings, code_package="durable_chain", service_name=SERVICE, zips=zips)
tables = pattern.tables({key: TableSpec(hash_key=hash_key) for key, hash_key in TABLES.items()})
# boto3, the durable SDK, Powertools and pydantic (src/requirements.lock) ship once, in this layer;
# every function zip holds only the pattern's own code.
dependencies = LambdaLayer(
    "dependencies",
    LambdaLayerArgs(
        layer_name=f"{prefix}-dependencies",
        description="Order chain dependencies: boto3, durable execution SDK, Powertools, pydantic.",
        code_path=build_layer(PATTERN_DIR),
    ),
)
partition = aws.get_partition().partition  # for the AWS managed policy's ARN


def worker(description: str, table: str | None) -> FunctionSpec:
    """Exactly ITEM_ACTIONS on exactly its table, if it has one."""
    return FunctionSpec(
        description=description,
        environment={f"{table.upper()}_TABLE": tables.names[table]} if table else {},
        policy_statements=(
            [
                PolicyStatement(
                    sid=f"{table.title()}Table",
                    actions=ITEM_ACTIONS,
                    resources=[tables.arns[table]],
                )
            ]
            if table
            else []
        ),
        layers=[dependencies.arn],
        publish=True,  # a numbered version per change, for the aliases below
    )


functions = pattern.functions({key: worker(*spec) for key, spec in WORKERS.items()})
# The orchestrator calls workers through these aliases only.
aliases = {
    key: aws.lambda_.Alias(
        f"{key}-{ALIAS}",
        name=ALIAS,
        description="Version the orchestrator invokes.",
        function_name=fn.function_name,
        function_version=fn.version,
    )
    for key, fn in functions.functions.items()
}

orchestrator = PythonFunction(
    "orchestrator",
    PythonFunctionArgs(
        function_name=f"{prefix}-orchestrator",
        description="Durable order orchestrator: chains the workers, compensates on failure.",
        handler="durable_chain.functions.orchestrator.handler",
        code_path=zips["orchestrator"],
        layers=[dependencies.arn],
        timeout=60,  # one invocation (a replay); the execution itself may last days
        service_name=SERVICE,
        environment={
            "ORDERS_TABLE": tables.names["orders"],
            **{
                f"{key.upper()}_FUNCTION": pulumi.Output.concat(
                    alias.function_name, ":", alias.name
                )
                for key, alias in aliases.items()
            },
        },
        log_retention_days=settings.log_retention_days,
        policy_statements=[
            # context.invoke runs with this role: only the workers' live aliases may be invoked.
            PolicyStatement(
                sid="InvokeWorkerAliases",
                actions=["lambda:InvokeFunction"],
                resources=[aliases[key].arn for key in sorted(aliases)],
            ),
            PolicyStatement(
                sid="OrdersTable", actions=ITEM_ACTIONS, resources=[tables.arns["orders"]]
            ),
        ],
        # Durable execution can only be enabled when a function is created; settlement waits
        # last up to 7 days.
        durable_config=DurableConfig(execution_timeout=8 * 24 * 3600, retention_period=14),
        # Checkpointing (lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState) and
        # logs; the function waits for the attachment, so the first execution can checkpoint.
        managed_policy_arns=[
            f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
        ],
        # Durable executions run the code of the version they started on: invoke the alias.
        publish=True,
    ),
)
orchestrator_alias = aws.lambda_.Alias(
    f"orchestrator-{ALIAS}",
    name=ALIAS,
    description="Start executions here: they run the version this alias points to.",
    function_name=orchestrator.function_name,
    function_version=orchestrator.version,
)

pulumi.export("orchestrator_alias_arn", orchestrator_alias.arn)
outputs = pattern.outputs(
    other_function_names={"orchestrator": orchestrator.function_name},
    other_log_group_names=[orchestrator.log_group_name],
)
for output, value in outputs.items():
    pulumi.export(output, value)
