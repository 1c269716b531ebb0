"""What parity compares: each resource's identity and its settings, engine-neutral.

A resource is identified by what names it in AWS (a function by its name, a role policy by its
role and name, an event-source mapping by its function and source), so the two engines' resources
pair up whatever their logical names. Its settings are the arguments that decide behaviour, read
the same way from both models; IAM policy documents are parsed into statements (actions and
resources as sets, keyed by Sid), JSON arguments (event patterns, redrive policies, definitions)
are compared as data, not text.

Both models must hold the same computed values (ARNs, ids) for references to compare equal: the
Terraform model comes from `mock_provider` and the Pulumi model from mocks, both filled from
`catalog.engines.mock_values`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .resources import Resource

Getter = Callable[[Resource], Any]


@dataclass(frozen=True)
class _Read:
    """A setting read from one argument path; `argument` names its top-level argument."""

    path: tuple[str, ...]
    convert: Callable[[Any], Any] = lambda value: value
    default: Any = None  # what AWS applies when the argument is unset

    @property
    def argument(self) -> str | None:
        return self.path[0] if len(self.path) == 1 else None

    def __call__(self, r: Resource) -> Any:
        value = self.convert(r.prop(*self.path))
        return self.default if value in (None, "", []) else value


def _get(*path: str, default: Any = None) -> Getter:
    return _Read(path, default=default)


def _sorted(*path: str) -> Getter:
    return _Read(path, lambda v: sorted(v) if isinstance(v, list) else v)


def _keys(*path: str) -> Getter:
    return _Read(path, lambda v: sorted(v) if isinstance(v, Mapping) and v else None)


def _parse_json(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value or None


def _json(*path: str) -> Getter:
    return _Read(path, _parse_json)


def _statements(value: Any) -> Any:
    """An IAM policy document as {sid: statement}, actions and resources as sorted lists."""
    document = _parse_json(value)
    if not isinstance(document, Mapping):
        return document
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    out: dict[str, Any] = {}
    for index, statement in enumerate(statements):
        principal = statement.get("Principal")
        out[str(statement.get("Sid") or index)] = {
            "effect": statement.get("Effect", "Allow"),
            "actions": _as_sorted_list(statement.get("Action")),
            "resources": _as_sorted_list(statement.get("Resource")),
            "principals": (
                {k: _as_sorted_list(v) for k, v in principal.items()}
                if isinstance(principal, Mapping)
                else principal
            ),
            "conditions": {
                test: {var: _as_sorted_list(vals) for var, vals in body.items()}
                for test, body in (statement.get("Condition") or {}).items()
            },
        }
    return out


def _policy(*path: str) -> Getter:
    return _Read(path, _statements)


def _as_sorted_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return sorted(value) if isinstance(value, list) else [value]


def _filters(r: Resource) -> Any:
    criteria = r.prop("filter_criteria")
    filters = (
        criteria.get("filter") or criteria.get("filters") if isinstance(criteria, Mapping) else None
    )
    if not filters:
        return None
    patterns = []
    for item in filters if isinstance(filters, list) else [filters]:
        text = item.get("pattern") if isinstance(item, Mapping) else None
        patterns.append(json.loads(text) if isinstance(text, str) else text)
    return patterns


def _attributes(r: Resource) -> Any:
    attributes = r.prop("attribute") or r.prop("attributes") or []
    if isinstance(attributes, Mapping):
        attributes = [attributes]
    return sorted((a.get("name"), a.get("type")) for a in attributes if isinstance(a, Mapping))


def _function(*path: str) -> Getter:
    """A function given by name or ARN, as its name."""

    def read(r: Resource) -> Any:
        value = r.prop(*path)
        text = str(value) if value is not None else None
        if text and ":function:" in text:
            return text.split(":function:", 1)[1].split(":", 1)[0]
        return text

    return read


def _first(*getters: Getter) -> Getter:
    def read(r: Resource) -> Any:
        for getter in getters:
            value = getter(r)
            if value not in (None, "", []):
                return value
        return None

    return read


@dataclass(frozen=True)
class KindSettings:
    identity: tuple[Getter, ...]
    settings: Mapping[str, Getter]


_NAME = (_get("name"),)

KINDS: dict[str, KindSettings] = {
    "aws_lambda_function": KindSettings(
        identity=(_get("function_name"),),
        settings={
            "runtime": _get("runtime"),
            "handler": _get("handler"),
            "memory_size": _get("memory_size"),
            "timeout": _get("timeout"),
            "architectures": _sorted("architectures"),
            "environment keys": _keys("environment", "variables"),
            "layers": _get("layers"),  # order matters
            "publish": _get("publish", default=False),
            "reserved_concurrent_executions": _get("reserved_concurrent_executions", default=-1),
            "role": _get("role"),
            "log format": _get("logging_config", "log_format"),
            "log group": _get("logging_config", "log_group"),
            "package_type": _get("package_type"),
            # Lambda durable functions (unset: an ordinary function).
            "durable execution_timeout": _get("durable_config", "execution_timeout"),
            "durable retention_period": _get("durable_config", "retention_period"),
        },
    ),
    "aws_lambda_layer_version": KindSettings(
        identity=(_get("layer_name"),),
        settings={
            "compatible_runtimes": _sorted("compatible_runtimes"),
            "compatible_architectures": _sorted("compatible_architectures"),
            "skip_destroy": _get("skip_destroy", default=False),
        },
    ),
    "aws_lambda_alias": KindSettings(
        identity=(_function("function_name"), _get("name")),
        settings={},
    ),
    "aws_cloudwatch_log_group": KindSettings(
        identity=_NAME,
        settings={
            "retention_in_days": _get("retention_in_days"),
            "skip_destroy": _get("skip_destroy", default=False),
            "kms_key_id": _get("kms_key_id"),
        },
    ),
    "aws_iam_role": KindSettings(
        identity=(_first(_get("name"), _get("name_prefix")),),
        settings={"assume_role_policy": _policy("assume_role_policy"), "path": _get("path")},
    ),
    "aws_iam_role_policy": KindSettings(
        identity=(_get("role"), _get("name")),
        settings={"policy": _policy("policy")},
    ),
    "aws_iam_role_policy_attachment": KindSettings(
        identity=(_get("role"), _get("policy_arn")),
        settings={},
    ),
    "aws_dynamodb_table": KindSettings(
        identity=_NAME,
        settings={
            "hash_key": _get("hash_key"),
            "range_key": _get("range_key"),
            "attributes": _attributes,
            "billing_mode": _get("billing_mode"),
            "stream_enabled": _get("stream_enabled"),
            "stream_view_type": _get("stream_view_type"),
            "ttl": _get("ttl", "attribute_name"),
            "deletion_protection_enabled": _get("deletion_protection_enabled"),
            "server_side_encryption": _get("server_side_encryption", "enabled"),
            "point_in_time_recovery": _get("point_in_time_recovery", "enabled"),
        },
    ),
    "aws_sfn_state_machine": KindSettings(
        identity=_NAME,
        settings={
            "type": _get("type"),
            "role_arn": _get("role_arn"),
            "definition": _json("definition"),
            "logging level": _get("logging_configuration", "level"),
            "logging include_execution_data": _get(
                "logging_configuration", "include_execution_data"
            ),
            "logging destination": _get("logging_configuration", "log_destination"),
        },
    ),
    "aws_lambda_event_source_mapping": KindSettings(
        identity=(_function("function_name"), _get("event_source_arn")),
        settings={
            "batch_size": _get("batch_size"),
            "maximum_batching_window_in_seconds": _get("maximum_batching_window_in_seconds"),
            "starting_position": _get("starting_position"),
            "parallelization_factor": _get("parallelization_factor"),
            "bisect_batch_on_function_error": _get("bisect_batch_on_function_error"),
            "maximum_retry_attempts": _get("maximum_retry_attempts"),
            "maximum_record_age_in_seconds": _get("maximum_record_age_in_seconds"),
            "function_response_types": _sorted("function_response_types"),
            "filter patterns": _filters,
            "on-failure destination": _get("destination_config", "on_failure", "destination_arn"),
            "maximum_concurrency": _get("scaling_config", "maximum_concurrency"),
            "enabled": _get("enabled", default=True),
        },
    ),
    "aws_sqs_queue": KindSettings(
        identity=_NAME,
        settings={
            "visibility_timeout_seconds": _get("visibility_timeout_seconds"),
            "message_retention_seconds": _get("message_retention_seconds"),
            "sqs_managed_sse_enabled": _get("sqs_managed_sse_enabled"),
            "redrive_policy": _json("redrive_policy"),
            "fifo_queue": _get("fifo_queue"),
        },
    ),
    "aws_sqs_queue_policy": KindSettings(
        identity=(_get("queue_url"),),
        settings={"policy": _policy("policy")},
    ),
    "aws_cloudwatch_event_bus": KindSettings(identity=_NAME, settings={}),
    "aws_cloudwatch_event_rule": KindSettings(
        identity=(_get("event_bus_name"), _get("name")),
        settings={"event_pattern": _json("event_pattern")},
    ),
    "aws_cloudwatch_event_target": KindSettings(
        identity=(_get("event_bus_name"), _get("rule"), _get("target_id")),
        settings={"arn": _get("arn"), "dead letter": _get("dead_letter_config", "arn")},
    ),
    "aws_apigatewayv2_api": KindSettings(
        identity=_NAME, settings={"protocol_type": _get("protocol_type")}
    ),
    "aws_apigatewayv2_route": KindSettings(
        identity=(_get("api_id"), _get("route_key")),
        settings={"authorization_type": _get("authorization_type")},
    ),
    "aws_apigatewayv2_integration": KindSettings(
        identity=(_get("api_id"), _get("integration_uri")),
        settings={
            "integration_type": _get("integration_type"),
            "payload_format_version": _get("payload_format_version"),
            "timeout_milliseconds": _get("timeout_milliseconds"),
        },
    ),
    "aws_apigatewayv2_stage": KindSettings(
        identity=(_get("api_id"), _get("name")),
        settings={
            "auto_deploy": _get("auto_deploy"),
            "access log destination": _get("access_log_settings", "destination_arn"),
            "access log format": _json("access_log_settings", "format"),
            "throttling_burst_limit": _get("default_route_settings", "throttling_burst_limit"),
            "throttling_rate_limit": _get("default_route_settings", "throttling_rate_limit"),
        },
    ),
    "aws_lambda_permission": KindSettings(
        identity=(_function("function_name"), _get("statement_id")),
        settings={
            "action": _get("action"),
            "principal": _get("principal"),
            "source_arn": _get("source_arn"),
        },
    ),
}


@dataclass(frozen=True)
class Profile:
    """One resource as parity sees it."""

    kind: str
    identity: str
    settings: dict[str, Any]
    address: str


def profile(resource: Resource) -> Profile:
    spec = KINDS.get(resource.kind)
    if spec is None:  # a kind parity has no settings table for: compared by presence only
        name = resource.prop("name") or resource.prop("function_name") or ""
        return Profile(resource.kind, str(name), {}, resource.address)
    identity = " ".join(str(_none_as_default(g(resource))) for g in spec.identity)
    settings = {key: _normal(getter(resource)) for key, getter in spec.settings.items()}
    return Profile(resource.kind, identity, settings, resource.address)


def _none_as_default(value: Any) -> Any:
    return "default" if value in (None, "") else value


def _normal(value: Any) -> Any:
    """Empty values are one "unset"; whole floats are ints (the Pulumi wire has only doubles)."""
    if value in ("", [], {}):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def profiles(resources: Iterable[Resource]) -> dict[tuple[str, str], list[Profile]]:
    out: dict[tuple[str, str], list[Profile]] = {}
    for resource in resources:
        if resource.engine.endswith("-data"):
            continue
        item = profile(resource)
        out.setdefault((item.kind, item.identity), []).append(item)
    return out


def mock_arguments() -> dict[str, tuple[str, ...]]:
    """Per kind, the top-level arguments parity reads: Terraform's mock evaluation leaves them
    null when unconfigured, as Pulumi's mocks do, instead of inventing values."""
    out = {}
    for kind, spec in KINDS.items():
        names = {getattr(g, "argument", None) for g in spec.settings.values()}
        if names - {None}:
            out[kind] = tuple(sorted(n for n in names if n))
    return out
