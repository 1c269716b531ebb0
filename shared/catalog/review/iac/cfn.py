"""SAM / CloudFormation templates -> `Resource` lists (the engine-neutral model of catalog.resources).

Intrinsic functions are rendered as `${...}` tokens so names compare as strings: the default log
group of a function without FunctionName is `/aws/lambda/${LogicalId}`, which is exactly what
`!Sub /aws/lambda/${LogicalId}` renders to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...resources import Resource, snake
from ..context import PatternContext
from ..loaders import LDict, key_line, load_json, load_yaml

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
_KINDS = {
    "AWS::Serverless::Function": "aws_lambda_function",
    "AWS::Lambda::Function": "aws_lambda_function",
    "AWS::Logs::LogGroup": "aws_cloudwatch_log_group",
    "AWS::Serverless::StateMachine": "aws_sfn_state_machine",
    "AWS::StepFunctions::StateMachine": "aws_sfn_state_machine",
    "AWS::DynamoDB::Table": "aws_dynamodb_table",
    "AWS::DynamoDB::GlobalTable": "aws_dynamodb_table",
    "AWS::Serverless::SimpleTable": "aws_dynamodb_table",
    "AWS::S3::Bucket": "aws_s3_bucket",
    "AWS::RDS::DBInstance": "aws_db_instance",
    "AWS::RDS::DBCluster": "aws_rds_cluster",
}
RETAIN = ("Retain", "RetainExceptOnCreate")


@dataclass
class Template:
    rel: str
    data: LDict
    resources: LDict
    parameters: dict[str, Any]
    globals_function: dict[str, Any]

    def line(self, logical: str) -> int | None:
        return key_line(self.resources, logical)


def load(ctx: PatternContext, rel: str) -> Template | None:
    """The parsed template (cached); None with a notice when it cannot be parsed."""
    key = f"cfn:{rel}"
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[no-any-return]
    template = None
    text = ctx.read_text(rel)
    if text is not None:
        try:
            data = load_json(text) if rel.lower().endswith(".json") else load_yaml(text)
        except (ValueError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else getattr(exc, "lineno", None)
            ctx.unreadable(rel, f"template not analysed: {str(exc).splitlines()[0]}", line)
            data = None
        if isinstance(data, LDict) and isinstance(data.get("Resources"), LDict):
            params = data.get("Parameters") if isinstance(data.get("Parameters"), dict) else {}
            glob = data.get("Globals") if isinstance(data.get("Globals"), dict) else {}
            fn_globals = glob.get("Function") if isinstance(glob.get("Function"), dict) else {}
            template = Template(rel, data, data["Resources"], params or {}, fn_globals or {})
    ctx.cache[key] = template
    return template


def templates(ctx: PatternContext, rels: list[str]) -> Iterator[Template]:
    for rel in rels:
        template = load(ctx, rel)
        if template is not None:
            yield template


def render(value: Any, params: dict[str, Any]) -> str | None:
    """A string with intrinsics as `${...}` tokens; parameters with defaults are substituted."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((fn, arg),) = value.items()
    if fn == "Ref":
        param = params.get(arg) if isinstance(arg, str) else None
        if isinstance(param, dict) and "Default" in param:
            return str(param["Default"])
        return f"${{{arg}}}"
    if fn == "Fn::GetAtt":
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return "${" + ".".join(str(p) for p in parts) + "}"
    if fn == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        if not isinstance(text, str):
            return None
        for name, param in params.items():
            if isinstance(param, dict) and "Default" in param:
                text = text.replace(f"${{{name}}}", str(param["Default"]))
        return text
    if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        parts = [render(p, params) for p in arg[1]]
        return None if None in parts else str(arg[0]).join(p for p in parts if p is not None)
    return None


def references(value: Any) -> set[str]:
    """Logical ids referenced by Ref, GetAtt or ${...} in Sub strings."""
    found: set[str] = set()
    if isinstance(value, dict):
        for fn, arg in value.items():
            if fn == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif fn == "Fn::GetAtt":
                first = arg[0] if isinstance(arg, list) and arg else str(arg).split(".", 1)[0]
                found.add(str(first))
            elif fn == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                if isinstance(text, str):
                    found.update(m.split(".", 1)[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                found |= references(arg)
            else:
                found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def properties(template: Template, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("Properties")
    props = dict(props) if isinstance(props, dict) else {}
    if body.get("Type") == "AWS::Serverless::Function":
        for key, value in template.globals_function.items():
            props.setdefault(key, value)
    return props


def resources(template: Template, root: Path) -> list[Resource]:
    out = []
    params = template.parameters
    for logical, body in template.resources.items():
        if not isinstance(body, dict):
            continue
        type_ = str(body.get("Type", ""))
        props = properties(template, body)
        kind = _KINDS.get(type_) or _generic_kind(type_)
        model: dict[str, Any] = {}
        refs: dict[str, tuple[str, ...]] = {}
        if kind == "aws_lambda_function":
            model["function_name"] = render(props.get("FunctionName"), params) or f"${{{logical}}}"
            logging = props.get("LoggingConfig")
            if isinstance(logging, dict) and "LogGroup" in logging:
                model["logging_config"] = {"log_group": render(logging["LogGroup"], params)}
                refs["logging_config"] = tuple(sorted(references(logging["LogGroup"])))
            model["runtime"] = props.get("Runtime")
        elif kind == "aws_cloudwatch_log_group":
            model["name"] = render(props.get("LogGroupName"), params)
            model["arn"] = f"${{{logical}.Arn}}"
            days = props.get("RetentionInDays")
            rendered = render(days, params) if days is not None else None
            model["retention_in_days"] = int(rendered) if rendered and rendered.isdigit() else None
        elif kind == "aws_sfn_state_machine":
            logging = props.get("Logging") or props.get("LoggingConfiguration")
            if isinstance(logging, dict):
                destination = None
                for dest in logging.get("Destinations") or []:
                    group = dest.get("CloudWatchLogsLogGroup") if isinstance(dest, dict) else None
                    if isinstance(group, dict):
                        destination = group.get("LogGroupArn")
                        break
                model["logging_configuration"] = {
                    "log_destination": render(destination, params) if destination else None,
                    "level": logging.get("Level"),
                }
                refs["logging_configuration"] = tuple(sorted(references(logging)))
        elif kind == "aws_dynamodb_table":
            model["deletion_protection_enabled"] = props.get("DeletionProtectionEnabled")
        elif kind == "aws_s3_bucket":
            model["force_destroy"] = False
        elif kind in ("aws_db_instance", "aws_rds_cluster"):
            model["deletion_protection"] = props.get("DeletionProtection")
        out.append(
            Resource(
                engine="cloudformation",
                kind=kind,
                address=logical,
                props=model,
                refs=refs,
                options={"retain_on_delete": body.get("DeletionPolicy") in RETAIN},
                file=root / template.rel,
                line=template.line(logical),
            )
        )
    _resolve_function_refs(out)
    return out


def _resolve_function_refs(resources: list[Resource]) -> None:
    """`!Ref Fn` of a function is its name: `/aws/lambda/${Fn}` names the group of a function
    with an explicit FunctionName too."""
    names = {
        r.address: r.props["function_name"]
        for r in resources
        if r.kind == "aws_lambda_function" and r.props["function_name"] != f"${{{r.address}}}"
    }
    for group in resources:
        name = group.props.get("name") if group.kind == "aws_cloudwatch_log_group" else None
        if isinstance(name, str) and "${" in name:
            group.props["name"] = re.sub(
                r"\$\{([A-Za-z0-9]+)\}", lambda m: names.get(m.group(1), m.group(0)), name
            )


def _generic_kind(type_: str) -> str:
    parts = type_.split("::")
    if len(parts) == 3:
        return f"aws_{parts[1].lower()}_{snake(parts[2])}"
    return type_
