"""CDK apps (TypeScript/JavaScript/Python) -> `Resource` lists, where statically visible.

CDK defaults matter: tables, buckets and log groups are RETAINED unless `removalPolicy` is DESTROY,
a LogGroup without `retention` keeps logs two years, and a function without `logGroup` /
`logRetention` writes to an implicit group that never expires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ...resources import Resource
from ..context import JUNK_DIRS, PatternContext
from ..jsscan import JS_SUFFIXES, JsFile
from .constructs import RETENTION_DAYS, Construct, Prop, js_constructs, py_constructs

FUNCTION_CLASSES = frozenset(
    {
        "Function",
        "NodejsFunction",
        "PythonFunction",
        "DockerImageFunction",
        "GoFunction",
        "SingletonFunction",
        "RustFunction",
        "JavaFunction",
    }
)
_NOT_LAMBDA = ("cloudfront", "appsync", "cf", "sfn", "tasks", "stepfunctions")
_CDK_IMPORT = re.compile(
    r"aws-cdk-lib|@aws-cdk/|\baws_cdk\b|from constructs import|'constructs'|\"constructs\""
)
_RETENTION = re.compile(r"RetentionDays\.([A-Z_]+)")


@dataclass
class App:
    folder: str
    language: str
    files: dict[str, str]  # rel -> text, only files that import the CDK
    constructs: list[Construct]
    destroy_all: bool  # RemovalPolicies.of(...).destroy() or an aspect applying DESTROY


def app_files(ctx: PatternContext, folder: str, language: str) -> dict[str, str]:
    suffixes = (".py",) if language == "python" else JS_SUFFIXES
    prefix = f"{folder}/" if folder else ""
    out = {}
    for rel in ctx.files:
        if not rel.startswith(prefix) or not rel.endswith(suffixes) or rel.endswith(".d.ts"):
            continue
        parts = PurePosixPath(rel).parts
        if any(p in JUNK_DIRS or p in ("cdk.out", "test", "tests", "__tests__") for p in parts):
            continue
        text = ctx.read_text(rel)
        if text is not None and _CDK_IMPORT.search(text):
            out[rel] = text
    return out


def load_apps(ctx: PatternContext, apps: list[tuple[str, str]]) -> list[App]:
    cached = ctx.cache.get("cdk")
    if isinstance(cached, list):
        return cached
    out = []
    for folder, language in apps:
        if language not in ("typescript", "javascript", "python"):
            ctx.note(folder or ".", f"CDK {language} app not analysed statically")
            continue
        files = app_files(ctx, folder, language)
        constructs: list[Construct] = []
        for rel, text in files.items():
            if language == "python":
                tree = ctx.python_ast(rel)
                if tree is None:
                    continue
                constructs += py_constructs(tree, text, rel)
            else:
                constructs += js_constructs(JsFile(text), rel)
        joined = "\n".join(files.values())
        destroy_all = bool(re.search(r"RemovalPolicies\.of\([^)]*\)\s*\.\s*destroy\(", joined))
        out.append(App(folder, language, files, constructs, destroy_all))
    ctx.cache["cdk"] = out
    return out


def _is_function(c: Construct) -> bool:
    prefix = c.callee.rsplit(".", 1)[0].lower() if "." in c.callee else ""
    return c.cls in FUNCTION_CLASSES and prefix not in _NOT_LAMBDA


def _kind(c: Construct) -> str | None:
    if _is_function(c):
        return "aws_lambda_function"
    return {
        "LogGroup": "aws_cloudwatch_log_group",
        "StateMachine": "aws_sfn_state_machine",
        "Table": "aws_dynamodb_table",
        "TableV2": "aws_dynamodb_table",
        "Bucket": "aws_s3_bucket",
    }.get(c.cls)


def _retention(prop: Prop | None, default: int | None) -> int | None:
    if prop is None:
        return default
    if isinstance(prop.literal, int):
        return prop.literal
    m = _RETENTION.search(prop.text)
    return RETENTION_DAYS.get(m.group(1)) if m else None


def _destroyed(app: App, c: Construct) -> bool:
    prop = c.props.get("removal_policy")
    if prop is not None and "DESTROY" in prop.text:
        return True
    if app.destroy_all:
        return True
    var = (c.var or "").removeprefix("self.")
    applied = (
        rf"\b{re.escape(var)}\s*\.\s*(?:applyRemovalPolicy|apply_removal_policy)\s*\([^)]*DESTROY"
    )
    return bool(var and re.search(applied, app.files.get(c.file, "")))


_FROM_FUNCTION = re.compile(
    r"""^[`'"]/aws/lambda/(?:[`'"]\s*\+\s*|\$\{)\s*([A-Za-z_$][\w$.]*?)\.(?:functionName|function_name)\s*\}?[`'"]?$"""
)


def _function_name(c: Construct) -> str:
    fname = c.props.get("function_name")
    return fname.literal if fname and isinstance(fname.literal, str) else f"${{{c.address}}}"


def _name_from_function(prop: Prop | None, by_var: dict[str, Construct]) -> str | None:
    """`'/aws/lambda/' + fn.functionName` (or the template-literal form): that function's group."""
    m = _FROM_FUNCTION.match(prop.text.strip()) if prop is not None else None
    fn = by_var.get(m.group(1).removeprefix("this.").removeprefix("self.")) if m else None
    return f"/aws/lambda/{_function_name(fn)}" if fn is not None and _is_function(fn) else None


def resources(app: App, root: Path) -> list[Resource]:
    by_var = {c.var: c for c in app.constructs if c.var}
    by_var.update({c.var.split(".", 1)[1]: c for c in app.constructs if c.var and "." in c.var})

    def targets(prop: Prop | None) -> tuple[str, ...]:
        if prop is None:
            return ()
        found = {by_var[n].address for n in prop.names if n in by_var}
        found |= {
            c.address
            for c in app.constructs
            if prop.span[0] <= c.span[0] < prop.span[1] and prop.span != (0, 0)
        }
        return tuple(sorted(found))

    out: list[Resource] = []
    for c in app.constructs:
        kind = _kind(c)
        if kind is None:
            continue
        props: dict[str, Any] = {}
        refs: dict[str, tuple[str, ...]] = {}
        options = {"retain_on_delete": False}
        if kind == "aws_lambda_function":
            name = _function_name(c)
            props["function_name"] = name
            group = c.props.get("log_group")
            if group is not None:
                refs["logging_config"] = targets(group)
                props["logging_config"] = {"log_group": f"${{{group.text}}}"}
            retention = c.props.get("log_retention")
            if retention is not None:
                virtual = f"{c.address}/LogRetention"
                out.append(
                    Resource(
                        "cdk",
                        "aws_cloudwatch_log_group",
                        virtual,
                        {
                            "name": f"/aws/lambda/{name}",
                            "retention_in_days": _retention(retention, None),
                        },
                        file=root / c.file,
                        line=retention.line,
                    )
                )
        elif kind == "aws_cloudwatch_log_group":
            name_prop = c.props.get("log_group_name")
            props["name"] = (
                name_prop.literal
                if name_prop and isinstance(name_prop.literal, str)
                else _name_from_function(name_prop, by_var)
            )
            props["retention_in_days"] = _retention(c.props.get("retention"), 731)
            options["retain_on_delete"] = not _destroyed(app, c)
        elif kind == "aws_sfn_state_machine":
            logs = c.props.get("logs")
            if logs is not None:
                destination = logs.nested.get("destination")
                level = logs.nested.get("level")
                props["logging_configuration"] = {
                    "log_destination": f"${{{destination.text}}}" if destination else None,
                    "level": (level.text.rsplit(".", 1)[-1] if level else "ERROR"),
                }
                refs["logging_configuration"] = targets(destination)
        elif kind == "aws_dynamodb_table":
            protection = c.props.get("deletion_protection")
            props["deletion_protection_enabled"] = protection.literal if protection else None
            options["retain_on_delete"] = not _destroyed(app, c)
        elif kind == "aws_s3_bucket":
            auto = c.props.get("auto_delete_objects")
            props["force_destroy"] = bool(auto and auto.literal is True)
            options["retain_on_delete"] = not _destroyed(app, c)
        out.append(Resource("cdk", kind, c.address, props, refs, options, root / c.file, c.line))
    return out
