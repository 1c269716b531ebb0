"""log-retention + removal-policy: `catalog.policies.check_log_retention` / `check_removal` run on
every deployable unit of the pattern (Terraform, SAM/CloudFormation, CDK, Pulumi, Serverless)."""

from __future__ import annotations

import os
import re

from ...metadata import readme_outline
from ...policies import Violation, check_log_retention, check_removal
from ...resources import Resource
from ..context import PatternContext
from ..iac.units import Unit, units
from ..model import rule
from . import check
from .docs import readme_file

rule(
    "LOG001",
    "log-retention",
    "error",
    "Lambda function without an explicit log group with retention",
    "aws_lambda_function.fn has no aws_cloudwatch_log_group: its logs never expire",
)
rule(
    "LOG002",
    "log-retention",
    "error",
    "state machine without a log group (or logging OFF)",
    "AWS::Serverless::StateMachine OrderFlow has no Logging destination",
)
rule(
    "LOG003",
    "log-retention",
    "error",
    "log group without a valid retention",
    "aws_cloudwatch_log_group.fn retention 10 (not a CloudWatch value) / no retention_in_days",
)
rule(
    "RM001",
    "removal-policy",
    "error",
    "resource kept on destroy",
    "lifecycle { prevent_destroy = true }; DeletionPolicy: Retain; protect=True; skip_destroy",
)
rule(
    "RM002",
    "removal-policy",
    "warning",
    "bucket that destroy cannot empty",
    "aws_s3_bucket.site without force_destroy; CDK Bucket without autoDeleteObjects",
)
rule(
    "RM003",
    "removal-policy",
    "error",
    "CDK stateful construct without RemovalPolicy.DESTROY",
    "new dynamodb.Table(this, 'ProductCatalogTable', {...}) is retained by cdk destroy",
)

_CDK_CLASS = {
    "aws_dynamodb_table": "table",
    "aws_s3_bucket": "bucket",
    "aws_cloudwatch_log_group": "log group",
}


def _report(
    ctx: PatternContext, unit: Unit, rule_id: str, v: Violation, message: str, hint: str
) -> None:
    where = v.file if v.file is not None else ctx.root / unit.label
    ctx.report(rule_id, where, v.line, f"{v.address}: {message}", hint)


@check("log-retention", "LOG001", "LOG002", "LOG003")
def check_retention(ctx: PatternContext) -> None:
    for unit in units(ctx):
        kinds = {r.address: r.kind for r in unit.resources}
        by_address = {r.address: r for r in unit.resources}
        for v in check_log_retention(unit.resources):
            kind = kinds.get(v.address)
            days = (
                by_address[v.address].prop("retention_in_days") if v.address in by_address else None
            )
            if kind == "aws_cloudwatch_log_group" and _expression(days):
                where = v.file if v.file is not None else ctx.root / unit.label
                ctx.note(
                    f"{os.path.relpath(where, ctx.root)}:{v.line}",
                    f"retention of {v.address} is {days}: "
                    "not known without running the program, not checked",
                )
                continue
            rule_id = {"aws_lambda_function": "LOG001", "aws_sfn_state_machine": "LOG002"}.get(
                kind or "", "LOG003"
            )
            hint = _retention_hint(unit.engine, rule_id) or v.hint
            if v.address.startswith("module.") and v.address.endswith(".lambda[0]"):
                hint = (
                    "set cloudwatch_logs_retention_in_days (for example 14) in the "
                    "terraform-aws-modules/lambda module call: it defaults to never expire"
                )
            message = v.message
            if rule_id == "LOG002" and "no explicit log group" in message:
                message = "state machine has no logging to a log group with retention"
            _report(ctx, unit, rule_id, v, message, hint)


def _expression(value: object) -> bool:
    """A value only known when the program runs (`${args.log_retention_days}`)."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def _retention_hint(engine: str, rule_id: str) -> str:
    if rule_id == "LOG003":
        return ""
    return {
        "sam": "add an AWS::Logs::LogGroup with RetentionInDays and point LoggingConfig.LogGroup "
        "(functions) or Logging.Destinations (state machines) at it",
        "cloudformation": "add an AWS::Logs::LogGroup with RetentionInDays and point LoggingConfig / "
        "LoggingConfiguration at it",
        "cdk": "pass logGroup: new logs.LogGroup(this, '...', { retention: RetentionDays.TWO_WEEKS, "
        "removalPolicy: RemovalPolicy.DESTROY })",
        "serverless": "set provider.logRetentionInDays",
        "pulumi": "create aws.cloudwatch.LogGroup(retention_in_days=14) and pass "
        "logging_config={'log_group': group.name}",
    }.get(engine, "")


_EMPTIES_BUCKET = re.compile(
    r"\bs3\s+rm\b[^\n]*--recursive|--recursive[^\n]*\bs3\s+rm\b|\bs3\s+rb\b[^\n]*--force"
    r"|\bs3api\s+delete-objects?\b|\bempty(?:ing)?\s+(?:the\s+|your\s+|each\s+)?(?:\S+\s+)?buckets?\b"
    r"|\bbuckets?\b[^\n.]{0,60}\bempt(?:y|ied)\b"
    r"|\b(?:delete|remove|empty|clear)\b[^\n.]{0,60}\b(?:objects|files|contents)\b[^\n.]{0,60}"
    r"\bbuckets?\b"
    r"|\bdelete\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:\S+\s+)?(?:S3\s+)?buckets\b",
    re.IGNORECASE,
)


def _cleanup_empties_buckets(ctx: PatternContext) -> bool:
    """The README's Cleanup section empties the buckets before the stack is deleted."""
    name = readme_file(ctx)
    text = ctx.read_text(name) if name else None
    if not text:
        return False
    lines = text.splitlines()
    # from the Cleanup heading to the end: it is the README's last section, and a warning after
    # it ("empty the bucket first", even when written as a setext heading) belongs to it
    return any(
        "clean" in s.title.lower() and _EMPTIES_BUCKET.search("\n".join(lines[s.line - 1 :]))
        for s in readme_outline(text)
    )


@check("removal-policy", "RM001", "RM002", "RM003")
def check_removal_policy(ctx: PatternContext) -> None:
    emptied: bool | None = None
    for unit in units(ctx):
        by_address = {r.address: r for r in unit.resources}
        for v in check_removal(unit.resources):
            resource = by_address.get(v.address)
            rule_id, message, hint = _removal(unit.engine, resource, v)
            if rule_id == "RM002":
                emptied = _cleanup_empties_buckets(ctx) if emptied is None else emptied
                if emptied:
                    continue  # the Cleanup section does what the hint asks
            _report(ctx, unit, rule_id, v, message, hint)


def _removal(engine: str, resource: Resource | None, v: Violation) -> tuple[str, str, str]:
    kind = resource.kind if resource else ""
    if v.message.startswith("bucket without force_destroy"):
        if engine == "cdk":
            return (
                "RM002",
                "bucket without autoDeleteObjects: cdk destroy fails while it holds objects",
                "set autoDeleteObjects: true with removalPolicy: RemovalPolicy.DESTROY",
            )
        if engine in ("sam", "cloudformation", "serverless"):
            return (
                "RM002",
                "bucket is not emptied: stack deletion fails while it holds objects",
                "document emptying it in Cleanup (aws s3 rm --recursive) or add an empty-on-delete "
                "custom resource",
            )
        return "RM002", v.message, v.hint
    if v.message.startswith("retain_on_delete"):
        if engine == "cdk":
            what = _CDK_CLASS.get(kind, kind)
            return (
                "RM003",
                f"{what} without removalPolicy DESTROY: cdk destroy leaves it behind "
                "(CDK retains stateful resources by default)",
                "set removalPolicy: RemovalPolicy.DESTROY for a demo",
            )
        if engine in ("sam", "cloudformation", "serverless"):
            return (
                "RM001",
                "DeletionPolicy Retain keeps it after the stack is deleted",
                "remove DeletionPolicy: Retain (Delete is the default) for a demo",
            )
    return "RM001", v.message, v.hint
