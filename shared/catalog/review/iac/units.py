"""Every deployable unit of a pattern as `Resource` lists: Terraform roots, SAM/CloudFormation
templates, CDK apps, Pulumi Python programs and Serverless Framework services."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from ...resources import Resource
from ..context import PatternContext
from ..discover import detect
from ..loaders import LDict, key_line, load_yaml
from . import cdk, cfn, pulumi_py, terraform


@dataclass
class Unit:
    engine: str  # terraform | sam | cloudformation | cdk | pulumi | serverless
    label: str  # the folder or template, relative to the pattern
    resources: list[Resource] = field(default_factory=list)


def units(ctx: PatternContext) -> list[Unit]:
    cached = ctx.cache.get("units")
    if isinstance(cached, list):
        return cached
    fw = detect(ctx)
    out: list[Unit] = []
    for project in terraform.projects(ctx, fw.terraform):
        out.append(Unit("terraform", terraform.rel_to(ctx, project.root), project.resources))
    for template in cfn.templates(ctx, fw.templates):
        engine = "sam" if "Transform" in template.data else "cloudformation"
        out.append(Unit(engine, template.rel, cfn.resources(template, ctx.root)))
    for app in cdk.load_apps(ctx, fw.cdk):
        out.append(Unit("cdk", app.folder or ".", cdk.resources(app, ctx.root)))
    for folder, runtime in fw.pulumi:
        if runtime != "python":
            ctx.note(folder or ".", f"Pulumi {runtime} program not analysed statically")
            continue
        items = pulumi_py.constructs(ctx, folder)
        out.append(Unit("pulumi", folder or ".", pulumi_py.resources(items, ctx.root)))
    for rel in fw.serverless:
        if rel.endswith((".yml", ".yaml")):
            unit = serverless_unit(ctx, rel)
            if unit is not None:
                out.append(unit)
        else:
            ctx.note(rel, "Serverless Framework config in code: not analysed statically")
    ctx.cache["units"] = out
    return out


def serverless_doc(ctx: PatternContext, rel: str) -> LDict | None:
    key = f"sls:{rel}"
    if key not in ctx.cache:
        text = ctx.read_text(rel)
        doc = None
        if text is not None:
            try:
                doc = load_yaml(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark is not None else None
                ctx.unreadable(rel, f"not analysed: {str(exc).splitlines()[0]}", line)
        ctx.cache[key] = doc if isinstance(doc, LDict) else None
    return ctx.cache[key]  # type: ignore[no-any-return]


def serverless_unit(ctx: PatternContext, rel: str) -> Unit | None:
    doc = serverless_doc(ctx, rel)
    if doc is None:
        return None
    provider = doc.get("provider") if isinstance(doc.get("provider"), dict) else {}
    retention: Any = provider.get("logRetentionInDays") if provider else None
    functions = doc.get("functions") if isinstance(doc.get("functions"), LDict) else LDict()
    path = ctx.root / rel
    resources: list[Resource] = []
    for name in functions:
        fn_name = f"${{sls:{name}}}"
        line = key_line(functions, name)
        resources.append(
            Resource(
                "serverless",
                "aws_lambda_function",
                name,
                {"function_name": fn_name},
                file=path,
                line=line,
            )
        )
        if retention is not None:
            resources.append(
                Resource(
                    "serverless",
                    "aws_cloudwatch_log_group",
                    f"{name}/LogGroup",
                    {"name": f"/aws/lambda/{fn_name}", "retention_in_days": retention},
                    file=path,
                    line=key_line(provider, "logRetentionInDays"),
                )
            )
    extra = doc.get("resources")
    if isinstance(extra, LDict) and isinstance(extra.get("Resources"), LDict):
        template = cfn.Template(rel, extra, extra["Resources"], {}, {})
        resources += cfn.resources(template, ctx.root)
    return Unit("serverless", str(PurePosixPath(rel)), resources)
