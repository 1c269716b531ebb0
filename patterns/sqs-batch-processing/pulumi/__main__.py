"""SQS batch processing, the Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (sqs-batch-processing), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
from batch_infra import BatchProcessingStack

from catalog.packaging import build_pattern
from catalog_pulumi import pattern_settings

PATTERN_DIR = Path(__file__).resolve().parent.parent

stack = BatchProcessingStack(pattern_settings(), zips=build_pattern(PATTERN_DIR))

for name, value in stack.outputs().items():
    pulumi.export(name, value)
