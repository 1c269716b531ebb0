"""Order saga on AWS Step Functions, the Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (sfn-saga), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
from saga_matrix import FUNCTIONS, TABLES, code_paths, table_statements

from catalog.packaging import build_pattern, render_template
from catalog_pulumi import (
    PythonFunction,
    PythonFunctionArgs,
    StateMachine,
    StateMachineArgs,
    Table,
    TableArgs,
    pattern_settings,
)

PATTERN_DIR = Path(__file__).resolve().parent.parent

settings = pattern_settings()
prefix = settings.name_prefix
retention = settings.log_retention_days
deletion_protection = settings.deletion_protection

tables = {
    key: Table(
        key,
        TableArgs(
            name=f"{prefix}-{key}", hash_key=hash_key, deletion_protection=deletion_protection
        ),
    )
    for key, hash_key in TABLES.items()
}

zips = code_paths(build_pattern(PATTERN_DIR))
environment = {
    "ORDERS_TABLE": tables["orders"].name,
    "INVENTORY_TABLE": tables["inventory"].name,
    "PAYMENTS_TABLE": tables["payments"].name,
    "POWERTOOLS_SERVICE_NAME": "stepfunctions-saga",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
table_arns = {key: table.arn for key, table in tables.items()}
functions = {
    fn.name: PythonFunction(
        fn.name,
        PythonFunctionArgs(
            function_name=f"{prefix}-{fn.name}",
            description=fn.description,
            handler=fn.handler,
            code_path=zips[fn.name],
            environment=environment,
            log_retention_days=retention,
            policy_statements=table_statements(fn, table_arns),
        ),
    )
    for fn in FUNCTIONS
}

# ${CreateOrderFunctionArn} ... in the ASL file, rendered as Terraform's templatefile() does.
template = (PATTERN_DIR / "statemachine" / "saga.asl.json").read_text()
placeholders = [fn.placeholder for fn in FUNCTIONS]
definition = pulumi.Output.all(*(functions[fn.name].arn for fn in FUNCTIONS)).apply(
    lambda arns: render_template(template, dict(zip(placeholders, arns, strict=True)))
)
saga = StateMachine(
    "order-saga",
    StateMachineArgs(
        name=f"{prefix}-order-saga",
        definition=definition,
        lambda_function_arns=[functions[name].arn for name in sorted(functions)],
        log_retention_days=retention,
    ),
)

pulumi.export("state_machine_arn", saga.arn)
pulumi.export("state_machine_name", saga.name)
pulumi.export("table_names", {key: table.name for key, table in tables.items()})
pulumi.export("function_names", {name: fn.function_name for name, fn in functions.items()})
pulumi.export(
    "log_group_names",
    [functions[name].log_group_name for name in sorted(functions)] + [saga.log_group_name],
)
