"""The Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (model-pattern), logRetentionDays (14), deletionProtection (false).
"""

import re
from pathlib import Path

import pulumi

from catalog.packaging import build_pattern
from catalog_pulumi import PythonFunction, PythonFunctionArgs, Table, TableArgs

PATTERN_DIR = Path(__file__).resolve().parent.parent

config = pulumi.Config()
prefix = config.get("namePrefix") or "model-pattern"
if not re.fullmatch(r"[a-z0-9-]{1,32}", prefix):
    raise ValueError("namePrefix must be 1-32 lowercase letters, digits and hyphens")
retention = config.get_int("logRetentionDays") or 14
deletion_protection = config.get_bool("deletionProtection") or False

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
            {
                "sid": "RecordsTable",
                "actions": ["dynamodb:GetItem", "dynamodb:PutItem"],
                "resources": [records.arn],
            }
        ],
    ),
)

pulumi.export("table_names", {"records": records.name})
pulumi.export("function_names", {"put-record": put_record.function_name})
pulumi.export("log_group_names", [put_record.log_group_name])
