"""The catalog's policies as plain functions over `catalog.resources.Resource` lists.

The shared test suite and `catalog review` call these same functions, for every engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .resources import Resource
from .settings import profiles

# The only values CloudWatch Logs accepts (days); a range check would let 10 or 200 through.
ALLOWED_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
LOG_GROUP = "aws_cloudwatch_log_group"
LOGGED_KINDS = ("aws_lambda_function", "aws_sfn_state_machine")
# Kinds whose `skip_destroy` leaves them in the account after destroy.
SKIP_DESTROY_KINDS = {LOG_GROUP: "log group", "aws_lambda_layer_version": "layer version"}
# Kinds that hold data; deletion protection on them must be off by default.
STATEFUL_PROTECTION = {
    "aws_dynamodb_table": "deletion_protection_enabled",
    "aws_db_instance": "deletion_protection",
    "aws_rds_cluster": "deletion_protection",
}


@dataclass(frozen=True)
class Violation:
    policy: str  # log-retention | removal-policy | parity
    address: str
    message: str
    hint: str
    file: Path | None = None
    line: int | None = None


def retention_of(group: Resource) -> int | None:
    value = group.prop("retention_in_days")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def find_log_group(resource: Resource, groups: Sequence[Resource]) -> Resource | None:
    """The log group a function or state machine writes to, by value, by reference, or by default name."""
    if resource.kind == "aws_lambda_function":
        explicit = resource.prop("logging_config", "log_group")
        attribute = "logging_config"
        name = resource.prop("function_name")
        default = f"/aws/lambda/{name}" if isinstance(name, str) else None
    else:
        explicit = resource.prop("logging_configuration", "log_destination")
        attribute = "logging_configuration"
        default = None
    for group in groups:
        group_name, group_arn = group.prop("name"), group.prop("arn")
        if (
            isinstance(explicit, str)
            and explicit
            and (
                explicit == group_name
                or (isinstance(group_arn, str) and explicit.removesuffix(":*") == group_arn)
                or (isinstance(group_name, str) and explicit.endswith(f":log-group:{group_name}:*"))
            )
        ):
            return group
    referenced = set(resource.references(attribute))
    for group in groups:
        if group.address in referenced or _without_key(group.address) in referenced:
            return group
    if default and explicit in (None, "", default):
        return next((g for g in groups if g.prop("name") == default), None)
    return None


def _without_key(address: str) -> str:
    return address.split("[", 1)[0] if address.endswith("]") else address


def check_log_retention(resources: Iterable[Resource]) -> list[Violation]:
    """Every Lambda function and state machine has an explicit log group with a valid retention."""
    resources = list(resources)
    groups = [r for r in resources if r.kind == LOG_GROUP]
    violations = []
    for group in groups:
        days = retention_of(group)
        if days not in ALLOWED_RETENTION_DAYS:
            violations.append(
                Violation(
                    "log-retention",
                    group.address,
                    f"log group {group.prop('name')!r} has retention {days!r}: logs never expire"
                    if not days
                    else f"log group {group.prop('name')!r} has retention {days}, not a CloudWatch value",
                    f"set retention_in_days to one of {ALLOWED_RETENTION_DAYS[:6]}... (the catalog uses 14)",
                    group.file,
                    group.line,
                )
            )
    for resource in resources:
        if resource.kind not in LOGGED_KINDS:
            continue
        group = find_log_group(resource, groups)
        if group is None:
            what = "function" if resource.kind == "aws_lambda_function" else "state machine"
            violations.append(
                Violation(
                    "log-retention",
                    resource.address,
                    f"{what} has no explicit log group: Lambda/Step Functions create one that never expires",
                    "declare a log group with retention and point logging_config / "
                    "logging_configuration at it (the shared components do this)",
                    resource.file,
                    resource.line,
                )
            )
        elif resource.kind == "aws_sfn_state_machine" and resource.prop(
            "logging_configuration", "level"
        ) in (None, "OFF"):
            violations.append(
                Violation(
                    "log-retention",
                    resource.address,
                    "state machine logging level is OFF: its log group receives nothing",
                    "set logging_configuration.level to ALL or ERROR",
                    resource.file,
                    resource.line,
                )
            )
    return violations


def check_log_group_wiring(resources: Iterable[Resource]) -> list[Violation]:
    """Per function and state machine: its log group exists, is the group it logs to (by name),
    has a retention, and is created before it (it depends on the group, directly or through what it
    depends on). Otherwise Lambda or Step Functions can create the group first, without retention.

    Reads `Resource.depends_on`: a Terraform plan (`depends_on` and references, through data
    sources), the HCL (references in the body) or a Pulumi graph (the recorded dependencies).
    """
    resources = list(resources)
    groups = [r for r in resources if r.kind == LOG_GROUP]
    by_address = {r.address: r for r in resources}
    violations = []
    for resource in resources:
        if resource.kind not in LOGGED_KINDS:
            continue

        def add(message: str, hint: str, r: Resource = resource) -> None:
            violations.append(Violation("log-retention", r.address, message, hint, r.file, r.line))

        group = find_log_group(resource, groups)
        destination = _log_destination(resource)
        if group is None:
            add(
                f"no log group of its own (it logs to {destination!r})"
                if destination
                else "no log group of its own",
                "declare the log group next to it and point its logging configuration at it",
            )
            continue
        name = group.prop("name")
        if _known(destination) and _known(name) and destination != name:
            add(
                f"logs to {destination!r}, but its log group {group.address} is {name!r}",
                "point the logging configuration at the group's name",
            )
        days = group.prop("retention_in_days")
        if days is None or (
            not _expression(days) and retention_of(group) not in ALLOWED_RETENTION_DAYS
        ):
            add(
                f"its log group {group.address} has retention {days!r}",
                f"set retention_in_days to one of {ALLOWED_RETENTION_DAYS[:6]}...",
            )
        if group.address not in _waits_for(resource, by_address):
            add(
                f"is not created after its log group {group.address}: AWS can create the group "
                "first, without retention",
                "reference the group (logging_config.log_group = <group>.name) or list it in "
                "depends_on",
            )
    return violations


def _log_destination(resource: Resource) -> str | None:
    """The name of the group a function or state machine writes to, when it is a known value."""
    if resource.kind == "aws_lambda_function":
        explicit = resource.prop("logging_config", "log_group")
        name = resource.prop("function_name")
        if explicit:
            return explicit if isinstance(explicit, str) else None
        return f"/aws/lambda/{name}" if isinstance(name, str) else None
    arn = resource.prop("logging_configuration", "log_destination")
    if isinstance(arn, str) and ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].removesuffix(":*")
    return None


def _expression(value: object) -> bool:
    return isinstance(value, str) and "${" in value


def _known(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not _expression(value)


def _waits_for(resource: Resource, by_address: Mapping[str, Resource]) -> set[str]:
    """Every address `resource` transitively depends on (instance keys tolerated)."""
    seen: set[str] = set()
    pending = list(resource.depends_on)
    while pending:
        address = pending.pop()
        if address in seen:
            continue
        seen.add(address)
        target = by_address.get(address)
        if target is None:  # `aws_x.this` names every instance of a for_each
            pending.extend(a for a in by_address if a != address and _without_key(a) == address)
            continue
        pending.extend(target.depends_on)
    return seen


def check_removal(resources: Iterable[Resource]) -> list[Violation]:
    """By default nothing survives destroy."""
    violations = []
    for r in resources:

        def add(message: str, hint: str, r: Resource = r) -> None:
            violations.append(Violation("removal-policy", r.address, message, hint, r.file, r.line))

        if r.options.get("protect"):
            add("resource is protected: `pulumi destroy` refuses to delete it", "drop protect=True")
        if r.options.get("retain_on_delete"):
            add("retain_on_delete keeps the resource after destroy", "drop retain_on_delete=True")
        if r.options.get("prevent_destroy"):
            add(
                "lifecycle.prevent_destroy blocks `terraform destroy`",
                "remove prevent_destroy; use the deletion_protection variable for production",
            )
        if r.kind in SKIP_DESTROY_KINDS and _truthy(r.prop("skip_destroy")):
            what = SKIP_DESTROY_KINDS[r.kind]
            add(f"skip_destroy keeps the {what} after destroy", "set skip_destroy = false")
        if r.kind == "aws_s3_bucket" and not _truthy(r.prop("force_destroy")):
            add(
                "bucket without force_destroy: destroy fails while it holds objects",
                "set force_destroy = true for the demo",
            )
        flag = STATEFUL_PROTECTION.get(r.kind)
        if flag and _truthy(r.prop(flag)):
            add(
                f"{flag} is on by default: destroy fails",
                "default it to false; expose one variable/config value to turn it on for production",
            )
    return violations


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def resource_profile(resources: Iterable[Resource]) -> dict[str, object]:
    """Kinds and counts, retention values, removal findings by kind (a summary of a model)."""
    resources = list(resources)
    return {
        "kinds": dict(sorted(Counter(r.kind for r in resources).items())),
        "retention": sorted(
            d for r in resources if r.kind == LOG_GROUP and (d := retention_of(r)) is not None
        ),
        "removal": sorted(Counter(v.message for v in check_removal(resources)).items()),
    }


def check_parity(
    left: Iterable[Resource],
    right: Iterable[Resource],
    engines: tuple[str, str] = ("terraform", "pulumi"),
) -> list[Violation]:
    """Both engines create the same resources with the same settings (`catalog.settings`).

    Resources pair up by what names them in AWS; each setting that differs is one violation
    naming the resource and the setting. Removal findings (protect, prevent_destroy, ...) must
    match too.
    """
    left, right = list(left), list(right)
    a, b = profiles(left), profiles(right)
    violations = []
    for key in sorted(set(a) | set(b)):
        kind, identity = key
        mine, theirs = a.get(key, []), b.get(key, [])
        if len(mine) != len(theirs):
            where = engines[0] if len(mine) > len(theirs) else engines[1]
            violations.append(
                Violation(
                    "parity",
                    f"{kind} {identity}",
                    f"{kind} {identity!r}: {len(mine)} in {engines[0]}, {len(theirs)} in "
                    f"{engines[1]} (only in {where})",
                    "declare the same resources in both engines",
                )
            )
            continue
        for one, other in zip(
            sorted(mine, key=lambda p: repr(p.settings)),
            sorted(theirs, key=lambda p: repr(p.settings)),
            strict=True,
        ):
            for setting, mine_value, their_value in _differences(one.settings, other.settings):
                violations.append(
                    Violation(
                        "parity",
                        f"{kind} {identity}",
                        f"{kind} {identity!r}: {setting} differs: {engines[0]} "
                        f"{mine_value!r}, {engines[1]} {their_value!r}",
                        "use the same settings in both engines",
                    )
                )
    removal = resource_profile(left)["removal"], resource_profile(right)["removal"]
    if removal[0] != removal[1]:
        violations.append(
            Violation(
                "parity",
                "removal",
                f"removal differs: {engines[0]} {removal[0]}, {engines[1]} {removal[1]}",
                "use the same removal settings in both engines",
            )
        )
    return violations


def _differences(a: object, b: object, path: str = "") -> Iterable[tuple[str, object, object]]:
    """(setting path, left value, right value) for each leaf that differs; dicts are descended
    (an IAM policy names the statement and the field: `policy.OrdersTable.actions`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            yield from _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
    elif a != b:
        yield path, a, b
