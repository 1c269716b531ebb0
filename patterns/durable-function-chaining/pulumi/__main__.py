"""Order chaining with Lambda durable functions, the Pulumi twin of ../terraform: same resources,
same outputs. Config: namePrefix (durable-chain), logRetentionDays (14), deletionProtection (false).
"""

import re
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

PATTERN_DIR = Path(__file__).resolve().parent.parent
# The catalog packages live in this repository, not on PyPI: put shared/ (catalog) and pulumi/
# (catalog_pulumi) on the import path, so `pulumi up` works from a clone without installing them.
_REPO = PATTERN_DIR.parents[1]
if (_REPO / "shared" / "catalog").is_dir() and (_REPO / "pulumi" / "catalog_pulumi").is_dir():
    for _folder in (_REPO / "pulumi", _REPO / "shared"):
        if str(_folder) not in sys.path:
            sys.path.insert(0, str(_folder))

from catalog.packaging import build_pattern  # noqa: E402
from catalog_pulumi import PythonFunction, PythonFunctionArgs, Table, TableArgs  # noqa: E402

ALIAS = "live"
EXECUTION_TIMEOUT_SECONDS = 8 * 24 * 3600  # settlement waits last up to 7 days
HISTORY_RETENTION_DAYS = 14
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

config = pulumi.Config()
prefix = config.get("namePrefix") or "durable-chain"
if not re.fullmatch(r"[a-z0-9-]{1,32}", prefix):
    raise ValueError("namePrefix must be 1-32 lowercase letters, digits and hyphens")
retention = config.get_int("logRetentionDays") or 14
deletion_protection = config.get_bool("deletionProtection") or False

tables = {
    key: Table(
        key,
        TableArgs(
            name=f"{prefix}-{key}", hash_key=hash_key, deletion_protection=deletion_protection
        ),
    )
    for key, hash_key in TABLES.items()
}
zips = build_pattern(PATTERN_DIR)
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
            environment={f"{table.upper()}_TABLE": tables[table].name} if table else {},
            log_retention_days=retention,
            policy_statements=(
                [
                    {
                        "sid": f"{table.title()}Table",
                        "actions": ITEM_ACTIONS,
                        "resources": [tables[table].arn],
                    }
                ]
                if table
                else []
            ),
            publish=True,
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
        timeout=60,  # one invocation (a replay); the execution itself may last days
        environment={
            "ORDERS_TABLE": tables["orders"].name,
            **{
                f"{key.upper()}_FUNCTION": pulumi.Output.concat(
                    alias.function_name, ":", alias.name
                )
                for key, alias in aliases.items()
            },
        },
        log_retention_days=retention,
        policy_statements=[
            # context.invoke runs with this role: only the workers' live aliases may be invoked.
            {
                "sid": "InvokeWorkerAliases",
                "actions": ["lambda:InvokeFunction"],
                "resources": [aliases[key].arn for key in sorted(aliases)],
            },
            {"sid": "OrdersTable", "actions": ITEM_ACTIONS, "resources": [tables["orders"].arn]},
        ],
        # Durable execution can only be enabled when a function is created.
        durable_config={
            "execution_timeout": EXECUTION_TIMEOUT_SECONDS,
            "retention_period": HISTORY_RETENTION_DAYS,
        },
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
