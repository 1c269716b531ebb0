"""Order chaining with Lambda durable functions, the Pulumi twin of ../terraform: same resources,
same outputs. Config: namePrefix (durable-chain), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from catalog.packaging import build_layer, build_pattern
from catalog_pulumi import (
    DurableConfig,
    LambdaLayer,
    LambdaLayerArgs,
    PolicyStatement,
    PythonFunction,
    PythonFunctionArgs,
    Table,
    TableArgs,
    pattern_settings,
)

PATTERN_DIR = Path(__file__).resolve().parent.parent
ALIAS = "live"
TABLES = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}
ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
# Powertools Logger takes its service name and level from here, in every function.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "durable-function-chaining",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
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
tables = {
    key: Table(
        key,
        TableArgs(
            name=f"{prefix}-{key}",
            hash_key=hash_key,
            deletion_protection=settings.deletion_protection,
        ),
    )
    for key, hash_key in TABLES.items()
}
zips = build_pattern(PATTERN_DIR)
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

workers, aliases = {}, {}
for key, (description, table) in WORKERS.items():
    workers[key] = PythonFunction(
        key,
        PythonFunctionArgs(
            function_name=f"{prefix}-{key}",
            description=description,
            handler=f"durable_chain.functions.{key}.handler",
            code_path=zips[key],
            layers=[dependencies.arn],
            environment=POWERTOOLS_ENVIRONMENT
            | ({f"{table.upper()}_TABLE": tables[table].name} if table else {}),
            log_retention_days=settings.log_retention_days,
            policy_statements=(
                [
                    PolicyStatement(
                        sid=f"{table.title()}Table",
                        actions=ITEM_ACTIONS,
                        resources=[tables[table].arn],
                    )
                ]
                if table
                else []
            ),
            publish=True,  # a numbered version per change, for the alias below
        ),
    )
    # The orchestrator calls workers through this alias only.
    aliases[key] = aws.lambda_.Alias(
        f"{key}-{ALIAS}",
        name=ALIAS,
        description="Version the orchestrator invokes.",
        function_name=workers[key].function_name,
        function_version=workers[key].version,
    )

orchestrator = PythonFunction(
    "orchestrator",
    PythonFunctionArgs(
        function_name=f"{prefix}-orchestrator",
        description="Durable order orchestrator: chains the workers, compensates on failure.",
        handler="durable_chain.functions.orchestrator.handler",
        code_path=zips["orchestrator"],
        layers=[dependencies.arn],
        timeout=60,  # one invocation (a replay); the execution itself may last days
        environment={
            **POWERTOOLS_ENVIRONMENT,
            "ORDERS_TABLE": tables["orders"].name,
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
                sid="OrdersTable", actions=ITEM_ACTIONS, resources=[tables["orders"].arn]
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

pulumi.export("orchestrator_function_name", orchestrator.function_name)
pulumi.export("orchestrator_alias_arn", orchestrator_alias.arn)
pulumi.export("worker_function_names", {key: fn.function_name for key, fn in workers.items()})
pulumi.export("table_names", {key: table.name for key, table in tables.items()})
pulumi.export(
    "log_group_names",
    [orchestrator.log_group_name] + [workers[key].log_group_name for key in sorted(workers)],
)
