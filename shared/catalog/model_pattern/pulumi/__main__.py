"""The Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (model-pattern), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi

from catalog.packaging import build_pattern
from catalog_pulumi import (
    PolicyStatement,
    PythonFunction,
    PythonFunctionArgs,
    Table,
    TableArgs,
    pattern_settings,
)

PATTERN_DIR = Path(__file__).resolve().parent.parent

settings = pattern_settings()
prefix = settings.name_prefix
retention = settings.log_retention_days
deletion_protection = settings.deletion_protection

records = Table(
    "records",
    TableArgs(name=f"{prefix}-records", hash_key="id", deletion_protection=deletion_protection),
)
zips = build_pattern(PATTERN_DIR)
put_record = PythonFunction(
    "put-record",
    PythonFunctionArgs(
        function_name=f"{prefix}-put-record",
        description="Validates a record and stores it once per id.",
        handler="model_pattern.functions.put_record.handler",
        code_path=zips["put-record"],
        environment={"RECORDS_TABLE": records.name, "POWERTOOLS_SERVICE_NAME": "model-pattern"},
        log_retention_days=retention,
        # Least privilege: the two calls the code makes, on this table only.
        policy_statements=[
            PolicyStatement(
                sid="RecordsTable",
                actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                resources=[records.arn],
            )
        ],
    ),
)

pulumi.export("table_names", {"records": records.name})
pulumi.export("function_names", {"put-record": put_record.function_name})
pulumi.export("log_group_names", [put_record.log_group_name])
