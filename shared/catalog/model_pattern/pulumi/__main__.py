"""The Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (model-pattern), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi

from catalog.packaging import build_pattern
from catalog_pulumi import FunctionSpec, PatternCore, PolicyStatement, TableSpec, pattern_settings

PATTERN_DIR = Path(__file__).resolve().parent.parent

pattern = PatternCore(
    pattern_settings(),
    code_package="model_pattern",
    service_name="model-pattern",
    zips=build_pattern(PATTERN_DIR),
)
tables = pattern.tables({"records": TableSpec(hash_key="id")})
pattern.functions(
    {
        "put-record": FunctionSpec(
            description="Validates a record and stores it once per id.",
            environment={"RECORDS_TABLE": tables.names["records"]},
            # Least privilege: the two calls the code makes, on this table only.
            policy_statements=[
                PolicyStatement(
                    sid="RecordsTable",
                    actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                    resources=[tables.arns["records"]],
                )
            ],
        )
    }
)

for name, value in pattern.outputs().items():
    pulumi.export(name, value)
