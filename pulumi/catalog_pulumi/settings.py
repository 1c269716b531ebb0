"""The settings every pattern's Pulumi program takes, read and validated in one place.

Config keys (the project namespace): `namePrefix` (required; each Pulumi.yaml declares the
pattern's default), `logRetentionDays` (14, a value CloudWatch Logs accepts), `deletionProtection`
(false). They match the Terraform roots' `name_prefix`, `log_retention_days` and
`deletion_protection` variables and their validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ._validation import check_name_prefix, check_retention


@dataclass(frozen=True)
class PatternSettings:
    name_prefix: str
    log_retention_days: int
    deletion_protection: bool


def pattern_settings(config: pulumi.Config | None = None) -> PatternSettings:
    """Read namePrefix, logRetentionDays and deletionProtection; ValueError names a bad one."""
    config = config or pulumi.Config()
    prefix = config.get("namePrefix")
    if prefix is None:
        raise ValueError("namePrefix is not set: declare its default in Pulumi.yaml (config:)")
    check_name_prefix("namePrefix", prefix)
    try:
        retention = config.get_int("logRetentionDays")
        protection = config.get_bool("deletionProtection")
    except pulumi.ConfigTypeError as error:
        raise ValueError(str(error)) from error
    retention = 14 if retention is None else retention
    check_retention("logRetentionDays", retention)
    return PatternSettings(
        name_prefix=prefix,
        log_retention_days=retention,
        deletion_protection=bool(protection),
    )
