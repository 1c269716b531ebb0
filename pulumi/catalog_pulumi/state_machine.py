"""A Step Functions state machine that logs to its own group and may invoke given functions."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import PolicyStatement, check_choice, check_pattern, check_retention

_TYPES = ("STANDARD", "EXPRESS")
_LOG_LEVELS = ("ALL", "ERROR", "FATAL")  # OFF would defeat the log group
_FUNCTION_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}")

# Step Functions delivers execution logs through CloudWatch Logs "vended log" deliveries. These
# actions support no resource-level permissions: AWS accepts only Resource "*" for them
# (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). They manage log deliveries
# and resource policies only and grant no access to log data.
_LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]


@dataclass(frozen=True, kw_only=True)
class StateMachineArgs:
    """Arguments of `StateMachine`; invalid values raise ValueError when constructed."""

    name: str
    definition: pulumi.Input[str]  # rendered ASL JSON
    lambda_function_arns: Sequence[pulumi.Input[str]] = field(default_factory=list)  # unqualified
    log_retention_days: int = 14
    log_level: str = "ALL"
    include_execution_data: bool = True
    type: str = "STANDARD"

    def __post_init__(self) -> None:
        check_pattern(
            "name",
            self.name,
            r"[A-Za-z0-9_-]{1,80}",
            "1-80 letters, digits, hyphens or underscores",
        )
        check_retention("log_retention_days", self.log_retention_days)
        check_choice("log_level", self.log_level, _LOG_LEVELS)
        check_choice("type", self.type, _TYPES)


def _checked_definition(text: str) -> str:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"state machine definition is not valid JSON: {error}") from error
    if not isinstance(document, dict) or "StartAt" not in document or "States" not in document:
        raise ValueError("state machine definition must be an ASL document with StartAt and States")
    return text


def _checked_arn(arn: str) -> str:
    if not _FUNCTION_ARN.fullmatch(arn):
        raise ValueError(f"lambda_function_arns: {arn!r} is not an unqualified Lambda function ARN")
    return arn


class StateMachine(pulumi.ComponentResource):
    """Log group `/aws/vendedlogs/states/<name>`, execution role and policy, state machine."""

    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: StateMachineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:StateMachine", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Under the vended-logs prefix the CloudWatch Logs resource policy stays small.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/states/{args.name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"Execution role of state machine {args.name}",
            assume_role_policy=_iam.assume_role_policy("StatesAssumeRole", "states.amazonaws.com"),
            opts=child,
            **_iam.role_naming(args.name, "-sfn-role"),
        )
        statements: list[PolicyStatement] = []
        if args.lambda_function_arns:
            arns = [
                pulumi.Output.from_input(a).apply(_checked_arn) for a in args.lambda_function_arns
            ]
            # Exactly these functions, and their versions and aliases.
            statements.append(
                PolicyStatement(
                    sid="InvokeTaskFunctions",
                    actions=["lambda:InvokeFunction"],
                    resources=[*arns, *(a.apply(lambda v: f"{v}:*") for a in arns)],
                )
            )
        statements.append(
            PolicyStatement(
                sid="LogDeliveryResourceStarOnly",
                actions=_LOG_DELIVERY_ACTIONS,
                resources=["*"],
            )
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name="least-privilege",
            role=role.id,
            policy=_iam.policy_document(statements),
            opts=child,
        )
        machine = aws.sfn.StateMachine(
            name,
            name=args.name,
            type=args.type,
            role_arn=role.arn,
            definition=pulumi.Output.from_input(args.definition).apply(_checked_definition),
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                log_destination=log_group.arn.apply(lambda arn: f"{arn}:*"),
                include_execution_data=args.include_execution_data,
                level=args.log_level,
            ),
            # Step Functions checks the role (log delivery, invoke) when the machine is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )

        self.arn = machine.arn
        self.name = machine.name
        self.log_group_name = log_group.name
        self.register_outputs(
            {"arn": self.arn, "name": self.name, "log_group_name": self.log_group_name}
        )
