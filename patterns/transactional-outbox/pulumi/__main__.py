"""Transactional outbox, the Pulumi twin of ../terraform: same resources, same outputs.

Config: namePrefix (txn-outbox), logRetentionDays (14), deletionProtection (false).
"""

import sys
from pathlib import Path

import pulumi

PATTERN_DIR = Path(__file__).resolve().parent.parent
# The catalog packages live in this repository, not on PyPI: put shared/ (catalog) and pulumi/
# (catalog_pulumi) on the import path, so `pulumi up` works from a clone without installing them.
_REPO = PATTERN_DIR.parents[1]
for _folder in (_REPO / "pulumi", _REPO / "shared"):
    if _folder.is_dir() and str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from outbox_infra import OutboxStack  # noqa: E402

from catalog.packaging import build_pattern  # noqa: E402

config = pulumi.Config()
stack = OutboxStack(
    prefix=config.get("namePrefix") or "txn-outbox",
    log_retention_days=config.get_int("logRetentionDays") or 14,
    deletion_protection=bool(config.get_bool("deletionProtection")),
    zips=build_pattern(PATTERN_DIR),
)

for name, value in stack.outputs().items():
    pulumi.export(name, value)
