"""Checks shared by the components; each raises ValueError naming the argument and the fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pulumi

# The only values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# The actions an SQS event source mapping takes with the function's role.
SQS_CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

_SID = re.compile(r"^[A-Za-z0-9]+$")
_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
# arn:<partition>:iam::<"aws" or account id>:policy/[<path>/]<name>, as in the Terraform module.
_POLICY_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$"
)


@dataclass(frozen=True, kw_only=True)
class PolicyStatement:
    """One Allow statement: name the actions and the resources explicitly (least privilege).

    The one shape every program and component writes IAM statements in (the Terraform modules
    take the same `{sid, actions, resources}` objects). Invalid values raise ValueError: the sid is
    letters and digits, there is at least one action and one resource, no "*" or "<service>:*".
    """

    sid: str
    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]]

    @classmethod
    def consume_queue(cls, sid: str, queue_arn: pulumi.Input[str]) -> PolicyStatement:
        """What a function's role needs for an SQS event source mapping to deliver the queue's
        messages to it (Lambda receives and deletes them with the function's role)."""
        return cls(sid=sid, actions=SQS_CONSUMER_ACTIONS, resources=[queue_arn])

    def __post_init__(self) -> None:
        if not isinstance(self.sid, str) or not _SID.fullmatch(self.sid):
            raise ValueError(f"policy statement sid {self.sid!r} must be letters and digits only")
        if isinstance(self.actions, str) or isinstance(self.resources, str):
            raise ValueError(f"policy statement {self.sid!r}: actions and resources are lists")
        if not list(self.actions) or not list(self.resources):
            raise ValueError(
                f"policy statement {self.sid!r} needs at least one action and one resource"
            )
        for action in self.actions:
            if action == "*" or _SERVICE_WILDCARD.fullmatch(action):
                raise ValueError(
                    f"policy statement {self.sid!r} grants {action!r}: wildcard actions are not "
                    "allowed, list the actions the function needs"
                )


def check_retention(argument: str, days: int) -> None:
    if isinstance(days, bool) or days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(
            f"{argument}={days!r} is not a retention CloudWatch Logs accepts; use one of: {allowed}"
        )


def check_choice(argument: str, value: object, choices: Iterable[object]) -> None:
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{argument}={value!r} must be one of: {', '.join(map(str, options))}")


def check_pattern(argument: str, value: str, pattern: str, what: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ValueError(f"{argument}={value!r} must be {what}")


def check_name_prefix(argument: str, value: str) -> None:
    """A pattern's resource name prefix, as the Terraform roots validate `name_prefix`."""
    check_pattern(argument, value, r"[a-z0-9-]{1,32}", "1-32 lowercase letters, digits and hyphens")


def check_entries(
    argument: str, entries: Mapping[str, object], kind: type, key_pattern: str, key_what: str
) -> None:
    """A non-empty mapping of `kind` objects (each validated when made) under checked keys."""
    if not entries:
        raise ValueError(f"{argument} must have at least one entry")
    for key, entry in entries.items():
        check_pattern(f"{argument} key", key, key_pattern, key_what)
        if not isinstance(entry, kind):
            raise ValueError(f"{argument}[{key!r}] must be a {kind.__name__}(...)")


def check_range(argument: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{argument}={value!r} must be a whole number from {low} to {high}")


def check_statements(statements: Sequence[PolicyStatement], reserved_sids: Iterable[str]) -> None:
    """PolicyStatement objects (each validated when made) with unique, unreserved sids."""
    reserved = set(reserved_sids)
    seen: set[str] = set()
    for statement in statements:
        if not isinstance(statement, PolicyStatement):
            raise ValueError(
                f"policy statement {statement!r} must be a PolicyStatement(sid=..., actions=..., "
                "resources=...)"
            )
        if statement.sid in reserved or statement.sid in seen:
            raise ValueError(f"policy statement sid {statement.sid!r} is used twice or reserved")
        seen.add(statement.sid)


LAYER_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+"
)


def check_layers(argument: str, layers: Sequence[pulumi.Input[str]]) -> None:
    """At most 5 distinct layer version ARNs (as the Terraform module validates); an ARN that is
    an output of another resource (a `LambdaLayer`) is checked by the provider instead."""
    if isinstance(layers, str):
        raise ValueError(f"{argument}={layers!r} must be a list of layer version ARNs")
    known = [arn for arn in layers if not isinstance(arn, pulumi.Output)]
    if len(layers) > 5 or len(set(known)) != len(known):
        raise ValueError(f"{argument} must list at most 5 distinct layer version ARNs")
    for arn in known:
        if not isinstance(arn, str) or not LAYER_ARN.fullmatch(arn):
            raise ValueError(
                f"{argument} entry {arn!r} must be a layer version ARN: "
                "arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>"
            )


def check_managed_policy_arns(argument: str, arns: Sequence[str]) -> None:
    """IAM policy ARNs only; never AdministratorAccess or a *FullAccess policy; distinct names
    (a policy's name names its attachment; a repeated ARN counts once)."""
    if isinstance(arns, str):
        raise ValueError(f"{argument}={arns!r} must be a list of policy ARNs, not one string")
    names: dict[str, str] = {}
    for arn in arns:
        if not isinstance(arn, str) or not _POLICY_ARN.fullmatch(arn):
            raise ValueError(
                f"{argument} entry {arn!r} must be an IAM policy ARN: "
                "arn:<partition>:iam::<aws or account id>:policy/[<path>/]<name>"
            )
        name = arn.rsplit("/", 1)[1]
        if name == "AdministratorAccess" or name.endswith("FullAccess"):
            raise ValueError(
                f"{argument} entry {arn!r} grants broad access (AdministratorAccess or a "
                "*FullAccess policy): attach a narrower policy or use policy_statements"
            )
        if names.setdefault(name, arn) != arn:
            raise ValueError(
                f"{argument}: {names[name]!r} and {arn!r} share the name {name!r}, which names "
                "the attachment; attach one of them"
            )
