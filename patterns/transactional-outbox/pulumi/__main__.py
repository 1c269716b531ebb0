"""Transactional outbox, the Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (txn-outbox), logRetentionDays (14), deletionProtection (false).
"""

from pathlib import Path

import pulumi
from outbox_infra import OutboxStack

from catalog.packaging import build_pattern
from catalog_pulumi import pattern_settings

PATTERN_DIR = Path(__file__).resolve().parent.parent

stack = OutboxStack(pattern_settings(), zips=build_pattern(PATTERN_DIR))

for name, value in stack.outputs().items():
    pulumi.export(name, value)
