"""What AWS would compute for a resource (ARNs, ids, URLs), shared by both engines' mocks.

Pulumi programs run under mocks (`pulumi_graph`) and Terraform roots are evaluated under
`mock_provider` (`terraform.TerraformWorkspace.mock_state`). Both fill the computed attributes of
every resource from this one function, so an ARN that one engine grants in an IAM statement is
the same string the other engine grants: parity compares settings literally.

Attribute names are the Terraform provider's (snake_case); `pulumi_graph` camelCases them. The
module uses the standard library only: the graph runner loads it as a file of its own when it runs
without the catalog installed (an exported pattern's tests).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"


def _arn(service: str, resource: str, *, region: str = REGION) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _short_id(*parts: str) -> str:
    return hashlib.sha1("::".join(parts).encode()).hexdigest()[:10]


def _function_name(value: Any) -> str:
    """A function given by name or ARN (either is valid wherever a function is referenced)."""
    text = str(value or "")
    return text.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in text else text


def computed(kind: str, props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The computed attributes of a resource of `kind` with configuration `props`.

    `name` is its physical name (the `name` / `function_name` argument, or what the engine
    generated). Unknown kinds get a unique ARN built from the kind and the name.
    """
    if kind == "aws_lambda_function":
        arn = _arn("lambda", f"function:{name}")
        version = "1" if props.get("publish") else "$LATEST"
        return {
            "id": name,
            "arn": arn,
            "qualified_arn": f"{arn}:{version}",
            "version": version,
            "invoke_arn": f"arn:{PARTITION}:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
        }
    if kind == "aws_lambda_layer_version":
        layer_arn = _arn("lambda", f"layer:{props.get('layer_name') or name}")
        # The first version of a layer is 1: the ARN a function's `layers` lists.
        return {
            "id": f"{layer_arn}:1",
            "arn": f"{layer_arn}:1",
            "layer_arn": layer_arn,
            "version": "1",
        }
    if kind == "aws_lambda_alias":
        arn = _arn("lambda", f"function:{_function_name(props.get('function_name'))}:{name}")
        return {"id": arn, "arn": arn}
    if kind == "aws_cloudwatch_log_group":
        return {"id": name, "arn": _arn("logs", f"log-group:{name}")}
    if kind == "aws_iam_role":
        return {
            "id": name,
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role{props.get('path') or '/'}{name}",
            "unique_id": "AROA" + hashlib.sha1(name.encode()).hexdigest()[:17].upper(),
        }
    if kind == "aws_iam_role_policy":
        return {"id": f"{props.get('role')}:{name}"}
    if kind == "aws_sfn_state_machine":
        arn = _arn("states", f"stateMachine:{name}")
        return {"id": arn, "arn": arn}
    if kind == "aws_dynamodb_table":
        arn = _arn("dynamodb", f"table/{name}")
        label = "2025-01-01T00:00:00.000"
        streams = bool(props.get("stream_enabled"))
        return {
            "id": name,
            "arn": arn,
            "stream_arn": f"{arn}/stream/{label}" if streams else "",
            "stream_label": label if streams else "",
        }
    if kind == "aws_sqs_queue":
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
        return {"id": url, "url": url, "arn": _arn("sqs", name)}
    if kind == "aws_cloudwatch_event_bus":
        return {"id": name, "arn": _arn("events", f"event-bus/{name}")}
    if kind == "aws_cloudwatch_event_rule":
        bus = props.get("event_bus_name") or "default"
        rule = name if bus == "default" else f"{bus}/{name}"
        return {"id": f"{bus}/{name}", "arn": _arn("events", f"rule/{rule}")}
    if kind == "aws_apigatewayv2_api":
        api_id = _short_id(kind, name)
        return {
            "id": api_id,
            "arn": f"arn:{PARTITION}:apigateway:{REGION}::/apis/{api_id}",
            "execution_arn": _arn("execute-api", api_id),
            "api_endpoint": f"https://{api_id}.execute-api.{REGION}.amazonaws.com",
        }
    service = kind.removeprefix("aws_").split("_", 1)[0]
    return {"id": name, "arn": _arn(service, f"{kind.removeprefix('aws_')}/{name}")}


# ---------------------------------------------------------------- names between the engines
def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# Maps whose keys are user data (environment variable names, tags), not argument names.
_USER_MAPS = frozenset({"variables", "tags", "tags_all"})


def snake_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            snake(str(k)): (v if snake(str(k)) in _USER_MAPS else snake_keys(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def kind_from_pulumi_type(token: str) -> str | None:
    """`aws:lambda/function:Function` -> `aws_lambda_function`; None for non-AWS or components."""
    match = re.fullmatch(r"aws:([A-Za-z0-9]+)/[A-Za-z0-9]+:([A-Za-z0-9]+)", token)
    if not match:
        return None
    return f"aws_{match.group(1).lower()}_{snake(match.group(2))}"
