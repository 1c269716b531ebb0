"""What is still deployed: one lister per resource kind the catalog uses.

After a destroy every list must be empty; anything left over is a resource the pattern failed to
manage (a Lambda log group created on first invoke, a retained table, a queue, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Client = Callable[[str], Any]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _lambda_functions(client: Client) -> list[str]:
    return [f["FunctionName"] for f in _pages(client("lambda"), "list_functions", "Functions")]


def _lambda_mappings(client: Client) -> list[str]:
    found = _pages(client("lambda"), "list_event_source_mappings", "EventSourceMappings")
    return [f"{m['UUID']} {m.get('EventSourceArn', '')} -> {m['FunctionArn']}" for m in found]


def _lambda_layers(client: Client) -> list[str]:
    return [layer["LayerName"] for layer in _pages(client("lambda"), "list_layers", "Layers")]


def _iam_roles(client: Client) -> list[str]:
    return [r["RoleName"] for r in _pages(client("iam"), "list_roles", "Roles")]


def _iam_policies(client: Client) -> list[str]:
    # Scope=Local: customer-managed only; AWS-managed policies are not the pattern's.
    return [p["Arn"] for p in _pages(client("iam"), "list_policies", "Policies", Scope="Local")]


def _log_groups(client: Client) -> list[str]:
    found = _pages(client("logs"), "describe_log_groups", "logGroups")
    return [g["logGroupName"] for g in found]


def _dynamodb_tables(client: Client) -> list[str]:
    return list(_pages(client("dynamodb"), "list_tables", "TableNames"))


def _state_machines(client: Client) -> list[str]:
    found = _pages(client("stepfunctions"), "list_state_machines", "stateMachines")
    return [m["stateMachineArn"] for m in found]


def _sqs_queues(client: Client) -> list[str]:
    return list(client("sqs").list_queues().get("QueueUrls", []))


def _sns_topics(client: Client) -> list[str]:
    return [t["TopicArn"] for t in _pages(client("sns"), "list_topics", "Topics")]


def _event_buses(client: Client) -> list[str]:
    buses = client("events").list_event_buses().get("EventBuses", [])
    return [b["Name"] for b in buses if b["Name"] != "default"]


def _event_rules(client: Client) -> list[str]:
    events = client("events")
    rules: list[str] = []
    for bus in events.list_event_buses().get("EventBuses", []):
        found = _pages(events, "list_rules", "Rules", EventBusName=bus["Name"])
        rules.extend(f"{bus['Name']}/{rule['Name']}" for rule in found)
    return rules


def _http_apis(client: Client) -> list[str]:
    apis = client("apigatewayv2").get_apis().get("Items", [])
    return [f"{api['ApiId']} {api.get('Name', '')}" for api in apis]


def _s3_buckets(client: Client) -> list[str]:
    return [b["Name"] for b in client("s3").list_buckets().get("Buckets", [])]


def _kms_keys(client: Client) -> list[str]:
    # A deleted key is only scheduled for deletion; what counts is an enabled customer key. moto
    # creates the service default key (alias/aws/dynamodb) for an encrypted table as a customer
    # key; in AWS that key is AWS managed, shared and not part of any stack, so it is not counted.
    kms = client("kms")
    service_keys = {
        alias["TargetKeyId"]
        for alias in _pages(kms, "list_aliases", "Aliases")
        if alias.get("AliasName", "").startswith("alias/aws/") and alias.get("TargetKeyId")
    }
    keys: list[str] = []
    for key in _pages(kms, "list_keys", "Keys"):
        if key["KeyId"] in service_keys:
            continue
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") == "CUSTOMER" and meta.get("KeyState") == "Enabled":
            keys.append(key["KeyId"])
    return keys


LISTERS: dict[str, Callable[[Client], list[str]]] = {
    "lambda:functions": _lambda_functions,
    "lambda:event_source_mappings": _lambda_mappings,
    "lambda:layers": _lambda_layers,
    "iam:roles": _iam_roles,
    "iam:policies": _iam_policies,
    "logs:log_groups": _log_groups,
    "dynamodb:tables": _dynamodb_tables,
    "stepfunctions:state_machines": _state_machines,
    "sqs:queues": _sqs_queues,
    "sns:topics": _sns_topics,
    "events:buses": _event_buses,
    "events:rules": _event_rules,
    "apigatewayv2:apis": _http_apis,
    "s3:buckets": _s3_buckets,
    "kms:keys": _kms_keys,
}


def inventory(client: Client) -> dict[str, list[str]]:
    """Kind -> sorted identifiers still present; every list empty means clean."""
    return {kind: sorted(lister(client)) for kind, lister in LISTERS.items()}
