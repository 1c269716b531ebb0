"""Order saga on AWS Step Functions, the Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (sfn-saga), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
from saga_matrix import FUNCTIONS, TABLES, code_paths, table_statements

from catalog.packaging import build_pattern, render_template
from catalog_pulumi import (
    FunctionSpec,
    PatternCore,
    StateMachine,
    StateMachineArgs,
    TableSpec,
    pattern_settings,
)

PATTERN_DIR = Path(__file__).resolve().parent.parent

settings = pattern_settings()
pattern = PatternCore(
    settings,
    code_package="sfn_saga",
    service_name="stepfunctions-saga",
    zips=code_paths(build_pattern(PATTERN_DIR)),
)
tables = pattern.tables({key: TableSpec(hash_key=hash_key) for key, hash_key in TABLES.items()})
environment = {f"{key.upper()}_TABLE": name for key, name in tables.names.items()}
functions = pattern.functions(
    {
        fn.name: FunctionSpec(
            description=fn.description,
            environment=environment,
            policy_statements=table_statements(fn, tables.arns),
        )
        for fn in FUNCTIONS
    }
)
arns = {name: fn.arn for name, fn in functions.functions.items()}

# ${CreateOrderFunctionArn} ... in the ASL file, rendered as Terraform's templatefile() does.
template = (PATTERN_DIR / "statemachine" / "saga.asl.json").read_text()
placeholders = [fn.placeholder for fn in FUNCTIONS]
definition = pulumi.Output.all(*(arns[fn.name] for fn in FUNCTIONS)).apply(
    lambda resolved: render_template(template, dict(zip(placeholders, resolved, strict=True)))
)
saga = StateMachine(
    "order-saga",
    StateMachineArgs(
        name=f"{settings.name_prefix}-order-saga",
        definition=definition,
        lambda_function_arns=[arns[name] for name in sorted(arns)],
        log_retention_days=settings.log_retention_days,
    ),
)

pulumi.export("state_machine_arn", saga.arn)
pulumi.export("state_machine_name", saga.name)
for output, value in pattern.outputs(other_log_group_names=[saga.log_group_name]).items():
    pulumi.export(output, value)
