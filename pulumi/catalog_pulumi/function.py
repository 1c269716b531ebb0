"""A Python Lambda function with its own log group (retention set) and least-privilege role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import (
    PolicyStatement,
    check_choice,
    check_layers,
    check_managed_policy_arns,
    check_pattern,
    check_range,
    check_retention,
    check_statements,
)

_RUNTIMES = ("python3.11", "python3.12", "python3.13")
_ARCHITECTURES = ("x86_64", "arm64")
_LOG_FORMATS = ("JSON", "Text")
_POWERTOOLS_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LOG_SID = "WriteOwnLogGroup"


@dataclass(frozen=True, kw_only=True)
class DurableConfig:
    """Lambda durable functions, as the Terraform module's `durable_config` input: the longest an
    execution may run, waits included (seconds), and the days a finished execution's history is
    kept. The role also needs the checkpoint permissions (the AWS managed policy
    service-role/AWSLambdaBasicDurableExecutionRolePolicy in `managed_policy_arns`)."""

    execution_timeout: int
    retention_period: int = 14

    def __post_init__(self) -> None:
        check_range("durable_config.execution_timeout", self.execution_timeout, 1, 31622400)
        check_range("durable_config.retention_period", self.retention_period, 1, 90)


@dataclass(frozen=True, kw_only=True)
class PythonFunctionArgs:
    """Arguments of `PythonFunction`; invalid values raise ValueError when constructed."""

    function_name: str
    handler: str  # "<package>.functions.<module>.handler"
    code_path: str | Path  # a built zip (catalog.packaging.build_pattern)
    runtime: str = "python3.13"
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    memory_size: int = 256
    timeout: int = 10
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    log_retention_days: int = 14
    log_format: str = "JSON"
    policy_statements: Sequence[PolicyStatement] = ()
    # IAM managed policies attached to the role, e.g. the service-role policy a Lambda feature
    # needs. Rejected: anything but a policy ARN, AdministratorAccess, *FullAccess.
    managed_policy_arns: Sequence[str] = ()
    # Lambda durable functions; None: an ordinary function. Only possible when it is created.
    durable_config: DurableConfig | None = None
    # Layer version ARNs, in order (at most 5), e.g. a `LambdaLayer`'s arn.
    layers: Sequence[pulumi.Input[str]] = ()
    publish: bool = False
    # Powertools service name of the function's logs: sets POWERTOOLS_SERVICE_NAME and
    # POWERTOOLS_LOG_LEVEL (as the Terraform module's `service_name`); None sets neither.
    service_name: str | None = None
    powertools_log_level: str = "INFO"
    description: str = ""
    reserved_concurrent_executions: int = -1  # -1: unreserved

    @property
    def variables(self) -> dict[str, pulumi.Input[str]]:
        """The function's environment: `environment`, and Powertools' settings with a service."""
        if self.service_name is None:
            return dict(self.environment)
        return {
            **self.environment,
            "POWERTOOLS_SERVICE_NAME": self.service_name,
            "POWERTOOLS_LOG_LEVEL": self.powertools_log_level,
        }

    def __post_init__(self) -> None:
        check_pattern(
            "function_name", self.function_name, r"[A-Za-z0-9_-]{1,64}",
            "1-64 letters, digits, hyphens or underscores",
        )  # fmt: skip
        check_pattern(
            "handler", self.handler, r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+",
            "a dotted Python path ending in the handler, e.g. 'pkg.functions.fn.handler'",
        )  # fmt: skip
        if len(self.handler) > 128:
            raise ValueError(f"handler={self.handler!r} must be at most 128 characters")
        check_choice("runtime", self.runtime, _RUNTIMES)
        if len(self.architectures) != 1:
            raise ValueError(f"architectures={self.architectures!r} must name exactly one")
        check_choice("architectures[0]", self.architectures[0], _ARCHITECTURES)
        check_range("memory_size", self.memory_size, 128, 10240)
        check_range("timeout", self.timeout, 1, 900)
        for key in self.environment:
            check_pattern(
                "environment key", key, r"(?!AWS_)[A-Za-z][A-Za-z0-9_]*",
                "letters, digits and underscores, starting with a letter, not AWS_*",
            )  # fmt: skip
        check_retention("log_retention_days", self.log_retention_days)
        check_choice("log_format", self.log_format, _LOG_FORMATS)
        if self.service_name is not None:
            check_pattern(
                "service_name", self.service_name, r"[A-Za-z0-9_.-]{1,64}",
                "1-64 letters, digits, dots, hyphens and underscores, e.g. the pattern's name",
            )  # fmt: skip
        check_choice("powertools_log_level", self.powertools_log_level, _POWERTOOLS_LOG_LEVELS)
        check_statements(self.policy_statements, reserved_sids=[_LOG_SID])
        check_managed_policy_arns("managed_policy_arns", self.managed_policy_arns)
        check_layers("layers", self.layers)
        if self.durable_config is not None and not isinstance(self.durable_config, DurableConfig):
            raise ValueError("durable_config must be a DurableConfig(execution_timeout=...)")
        if len(self.description) > 256:
            raise ValueError("description must be at most 256 characters")
        if isinstance(self.reserved_concurrent_executions, bool) or (
            self.reserved_concurrent_executions < -1
        ):
            raise ValueError("reserved_concurrent_executions must be -1 (unreserved) or more")


class PythonFunction(pulumi.ComponentResource):
    """Log group `/aws/lambda/<name>` with retention, execution role, role policy, managed policy
    attachments, function.

    The function depends on its log group, role policy and attachments, so Lambda never creates a
    never-expiring group of its own and early invocations have their logs and permissions.
    """

    function_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    qualified_arn: pulumi.Output[str] | None  # only when args.publish
    version: pulumi.Output[str]  # "$LATEST" unless args.publish
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:PythonFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"Execution role of Lambda function {args.function_name}",
            assume_role_policy=_iam.assume_role_policy("LambdaAssumeRole", "lambda.amazonaws.com"),
            opts=child,
            **_iam.role_naming(args.function_name, "-role"),
        )
        # Write to its own log group only; no logs:CreateLogGroup, the group is managed here.
        own_logs = PolicyStatement(
            sid=_LOG_SID,
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.arn.apply(lambda arn: f"{arn}:*")],
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name="least-privilege",
            role=role.id,
            policy=_iam.policy_document([own_logs, *args.policy_statements]),
            opts=child,
        )
        # Named after the policy (duplicate ARNs collapse, like Terraform's for_each over a set).
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{arn.rsplit('/', 1)[1]}",
                role=role.name,
                policy_arn=arn,
                opts=child,
            )
            for arn in dict.fromkeys(args.managed_policy_arns)
        ]
        function = aws.lambda_.Function(
            name,
            name=args.function_name,
            description=args.description,
            role=role.arn,
            handler=args.handler,
            runtime=args.runtime,
            architectures=list(args.architectures),
            memory_size=args.memory_size,
            timeout=args.timeout,
            reserved_concurrent_executions=args.reserved_concurrent_executions,
            package_type="Zip",
            code=pulumi.FileArchive(str(args.code_path)),
            environment=(
                aws.lambda_.FunctionEnvironmentArgs(variables=args.variables)
                if args.variables
                else None
            ),
            # Levels stated for JSON (Lambda's defaults): left unset, the provider plans a new
            # version of a published function on every run (terraform-provider-aws#42181).
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format=args.log_format,
                log_group=log_group.name,
                application_log_level="INFO" if args.log_format == "JSON" else None,
                system_log_level="INFO" if args.log_format == "JSON" else None,
            ),
            durable_config=(
                aws.lambda_.FunctionDurableConfigArgs(
                    execution_timeout=args.durable_config.execution_timeout,
                    retention_period=args.durable_config.retention_period,
                )
                if args.durable_config is not None
                else None
            ),
            layers=list(args.layers) or None,
            publish=args.publish,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group, role_policy, *attachments]
            ),
        )

        self.function_name = function.name
        self.arn = function.arn
        self.qualified_arn = function.qualified_arn if args.publish else None
        self.version = function.version
        self.role_arn = role.arn
        self.role_name = role.name
        self.log_group_name = log_group.name
        outputs: dict[str, Any] = {
            "function_name": self.function_name,
            "arn": self.arn,
            "version": self.version,
            "role_arn": self.role_arn,
            "role_name": self.role_name,
            "log_group_name": self.log_group_name,
        }
        if self.qualified_arn is not None:
            outputs["qualified_arn"] = self.qualified_arn
        self.register_outputs(outputs)
