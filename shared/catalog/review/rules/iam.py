"""iam: wildcard actions, full-access managed policies, and Resource "*" where the resource is known.

Statements are read from SAM/CloudFormation templates, Terraform (aws_iam_policy_document,
jsonencode and heredoc policies), CDK PolicyStatement constructs and Python dict literals
(Pulumi json.dumps policies); managed policy names are found in every IaC file.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..context import PatternContext
from ..discover import detect
from ..iac import cdk, cfn, terraform
from ..iac.units import units
from ..loaders import LList, key_line
from ..model import rule
from . import check

rule(
    "IAM001",
    "iam",
    "error",
    "wildcard IAM action",
    "Action: 'dynamodb:*' or Action: '*' (or Allow with NotAction)",
)
rule(
    "IAM002",
    "iam",
    "error",
    "full-access managed policy attached",
    "ManagedPolicyArns: arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess; AdministratorAccess",
)
rule(
    "IAM003",
    "iam",
    "warning",
    "Resource '*' where the resource is declared in the pattern",
    "dynamodb:GetItem on Resource '*' while the template declares the table",
)

# Actions that only accept Resource "*" (no resource-level permissions), each with the reason.
RESOURCE_STAR_ALLOWED: dict[str, str] = {
    **dict.fromkeys(
        [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        ],
        "CloudWatch Logs vended-log delivery (Step Functions, API Gateway logging) accepts only "
        "Resource '*' (Step Functions developer guide, 'Using CloudWatch Logs')",
    ),
    **dict.fromkeys(
        [
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        ],
        "X-Ray has no resource-level permissions for trace upload and sampling (AWSXRayDaemonWriteAccess)",
    ),
    **dict.fromkeys(
        [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeVpcs",
        ],
        "Lambda in a VPC manages ENIs; these EC2 actions need Resource '*' "
        "(AWSLambdaVPCAccessExecutionRole)",
    ),
    "cloudwatch:PutMetricData": "no resource-level permission; scope with the cloudwatch:namespace condition",
    "sts:GetCallerIdentity": "takes no resource",
    "states:ListStateMachines": "list operation: no resource-level permission",
    "lambda:ListFunctions": "list operation: no resource-level permission",
    "dynamodb:ListTables": "list operation: no resource-level permission",
    "sqs:ListQueues": "list operation: no resource-level permission",
    "sns:ListTopics": "list operation: no resource-level permission",
    "s3:ListAllMyBuckets": "list operation: no resource-level permission",
    "events:ListEventBuses": "list operation: no resource-level permission",
}
# Service prefix of the actions acting on each resource kind (kinds are Terraform type names).
_KIND_SERVICE = {
    "sfn": "states",
    "cloudwatch_log": "logs",
    "cloudwatch_event": "events",
    "events": "events",
}
_FULL_ACCESS = re.compile(
    r"(?<![\w-])(AdministratorAccess|PowerUserAccess|IAMFullAccess|[A-Za-z0-9]+_?FullAccess(?:_v2)?)(?![\w-])"
    r"|\bManagedPolicy\.([A-Z0-9_]*FULL_ACCESS[A-Z0-9_]*|ADMINISTRATOR_ACCESS|POWER_USER_ACCESS)\b"
)
# Lines naming a statement, policy or role: `Sid: DynamoDBFullAccess` attaches nothing.
_NAME_KEY = re.compile(
    r"""^\s*["']?(?:Sid|sid|PolicyName|policy_name|policyName|RoleName|role_name|roleName|"""
    r"""Description|description|name)["']?\s*[:=]"""
)
# A name compared against (a Terraform validation's guard) or quoted in a validation message attaches nothing.
_GUARD = re.compile(r"""(?:!=|==)\s*["']?$|^\s*error_message\s*=""")
_WILDCARD = re.compile(r"^(\*|[A-Za-z0-9-]+:\*)$")
_STR = re.compile(r"(['\"])([^'\"\n]*)\1")


@dataclass
class Statement:
    rel: str
    line: int | None
    effect: str
    actions: list[str] | None  # None: not statically known
    not_action: bool
    resources: list[str] | None
    principal: bool
    principal_text: str = ""

    def key_policy_root(self) -> bool:
        """The standard KMS key-policy statement: the account root gets `kms:*`, so that IAM
        policies can grant access to the key (without it the key becomes unmanageable)."""
        return (
            self.principal
            and self.actions == ["kms:*"]
            and bool(
                re.search(r":root\b|AccountRootPrincipal", self.principal_text)
                or (
                    "AccountId" in self.principal_text
                    and ":" not in self.principal_text.replace("AWS::", "")
                )
            )
        )


def _as_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _statement(rel: str, line: int | None, body: dict[str, Any]) -> Statement:
    def get(*keys: str) -> Any:
        return next((body[k] for k in keys if k in body), None)

    not_action = get("NotAction", "not_actions") is not None
    return Statement(
        rel,
        line,
        str(get("Effect", "effect") or "Allow"),
        _as_list(get("NotAction", "not_actions") if not_action else get("Action", "actions")),
        not_action,
        _as_list(get("Resource", "resources")),
        get("Principal", "principals", "NotPrincipal") is not None,
        str(get("Principal", "principals") or ""),
    )


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _json_string_document(value: Any) -> Any:
    """A policy written as a JSON string (`PolicyDocument: !Sub '{...}'`), parsed; else None."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        value = value["Fn::Sub"]
        value = value[0] if isinstance(value, list) and value else value
    if not isinstance(value, str) or '"Statement"' not in value:
        return None
    text = value.strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(_PLACEHOLDER.sub("placeholder", text))
    except ValueError:
        return None


def _string_statements(
    doc: Any, rel: str, start: int | None, lines: list[str] | None
) -> Iterator[Statement]:
    for stmt in _documents(doc, rel):
        stmt.line = start
        needle = f'"{stmt.actions[0]}"' if stmt.actions else None
        if needle and lines and start:
            stmt.line = next(
                (n for n in range(start, len(lines) + 1) if needle in lines[n - 1]), start
            )
        yield stmt


def _documents(
    value: Any,
    rel: str,
    skip: tuple[str, ...] = ("AssumeRolePolicyDocument",),
    lines: list[str] | None = None,
) -> Iterator[Statement]:
    """Every policy statement below a parsed template value (JSON-string documents included)."""
    if isinstance(value, dict):
        stmts = value.get("Statement")
        if isinstance(stmts, (dict, list)) and ("Version" in value or isinstance(stmts, list)):
            items = stmts if isinstance(stmts, list) else [stmts]
            lines = stmts.item_lines if isinstance(stmts, LList) else []
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    line = lines[index] if index < len(lines) else key_line(value, "Statement")
                    yield _statement(rel, line, item)
            return
        for key, child in value.items():
            if key in skip:
                continue
            doc = _json_string_document(child)
            if doc is not None:
                yield from _string_statements(doc, rel, key_line(value, key), lines)
            else:
                yield from _documents(child, rel, skip, lines)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            doc = _json_string_document(child)
            if doc is not None:
                start = value.item_lines[index] if isinstance(value, LList) else None
                yield from _string_statements(doc, rel, start, lines)
            else:
                yield from _documents(child, rel, skip, lines)


# ------------------------------------------------------------------ sources
def _template_statements(ctx: PatternContext, rels: list[str]) -> Iterator[Statement]:
    for template in cfn.templates(ctx, rels):
        text = ctx.read_text(template.rel) or ""
        yield from _documents(template.resources, template.rel, lines=text.splitlines())


def _terraform_statements(ctx: PatternContext, folders: list[str]) -> Iterator[Statement]:
    for project in terraform.projects(ctx, folders):
        for block in project.blocks:
            rel = terraform.rel_to(ctx, block.file)
            if block.block == "data" and block.type == "aws_iam_policy_document":
                body = block.scope.evaluate(block.body)
                statements = list(body.get("statement") or [])
                for dyn in body.get("dynamic") or []:
                    for label, inner in dyn.items():
                        if terraform.unquote(label) == "statement":
                            statements += list(inner.get("content") or [])
                for stmt in statements:
                    if isinstance(stmt, dict):
                        found = _statement(rel, None, terraform.unquote_all(stmt))
                        needle = f'"{found.actions[0]}"' if found.actions else None
                        found.line = terraform.attr_line(block.file, block.line, "actions", needle)
                        yield found
            elif block.block == "resource":
                for attr, value in _policy_attrs(block.body):
                    doc = terraform.json_document(value)
                    if doc is not None:
                        for stmt in _documents(doc, rel):
                            needle = f'"{stmt.actions[0]}"' if stmt.actions else None
                            stmt.line = terraform.attr_line(block.file, block.line, attr, needle)
                            yield stmt


def _policy_attrs(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for attr in ("policy",):
        if attr in body:
            yield attr, body[attr]
    for inline in body.get("inline_policy") or []:
        if isinstance(inline, dict) and "policy" in inline:
            yield "policy", inline["policy"]


def _js_strings(text: str) -> list[str] | None:
    items = _STR.findall(text)
    return [s for _, s in items] if items or text.strip() in ("[]",) else None


def _cdk_statements(ctx: PatternContext, apps: list[tuple[str, str]]) -> Iterator[Statement]:
    for app in cdk.load_apps(ctx, apps):
        for c in app.constructs:
            if c.cls != "PolicyStatement":
                continue
            actions = c.props.get("actions")
            not_actions = c.props.get("not_actions")
            resources = c.props.get("resources")
            effect = c.props.get("effect")
            chosen = not_actions or actions
            yield Statement(
                c.file,
                chosen.line if chosen else c.line,
                "Deny" if effect is not None and "DENY" in effect.text.upper() else "Allow",
                _js_strings(chosen.text) if chosen else None,
                not_actions is not None,
                _js_strings(resources.text) if resources else None,
                c.props.get("principals") is not None,
                c.props["principals"].text if "principals" in c.props else "",
            )


def _python_dict_statements(ctx: PatternContext, rel: str, text: str) -> Iterator[Statement]:
    tree = ctx.python_ast(rel)
    if tree is None:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if not {"Action", "NotAction"} & set(keys):
            continue
        body: dict[str, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                try:
                    body[k.value] = ast.literal_eval(v)
                except (ValueError, SyntaxError, TypeError):
                    body[k.value] = None if k.value in ("Action", "NotAction", "Resource") else "?"
        yield _statement(rel, node.lineno, body)


# ------------------------------------------------------------------ the check
def iac_files(ctx: PatternContext) -> list[str]:
    """Files that describe infrastructure (not Lambda code): templates, *.tf, CDK and Pulumi code."""
    fw = detect(ctx)
    files = set(fw.templates) | set(fw.serverless)
    for folder in fw.terraform:
        prefix = f"{folder}/" if folder else ""
        files |= {f for f in ctx.code_files(".tf") if f.startswith(prefix)}
    for app in cdk.load_apps(ctx, fw.cdk):
        files |= set(app.files)
    for folder, runtime in fw.pulumi:
        if runtime == "python":
            from ..iac.pulumi_py import program_files

            files |= set(program_files(ctx, folder))
    return sorted(files)


def _known_services(ctx: PatternContext) -> set[str]:
    services = set()
    for unit in units(ctx):
        for r in unit.resources:
            rest = r.kind.removeprefix("aws_")
            special = next((v for k, v in _KIND_SERVICE.items() if rest.startswith(k)), None)
            services.add(special or rest.split("_", 1)[0])
    return services


@check("iam", "IAM001", "IAM002", "IAM003")
def check_iam(ctx: PatternContext) -> None:
    fw = detect(ctx)
    statements = list(_template_statements(ctx, fw.templates))
    statements += _terraform_statements(ctx, fw.terraform)
    statements += _cdk_statements(ctx, fw.cdk)
    for folder, runtime in fw.pulumi:
        if runtime == "python":
            from ..iac.pulumi_py import program_files

            for rel, text in program_files(ctx, folder).items():
                statements += _python_dict_statements(ctx, rel, text)
    known = _known_services(ctx)
    for stmt in statements:
        if stmt.effect.lower() != "allow" or stmt.actions is None or stmt.key_policy_root():
            continue
        if stmt.not_action:
            ctx.report(
                "IAM001",
                stmt.rel,
                stmt.line,
                f"Allow with NotAction {stmt.actions} grants every other action",
                "list the actions the code calls instead",
            )
            continue
        wild = [a for a in stmt.actions if _WILDCARD.match(a)]
        for action in wild:
            scope = (
                "every action of every service" if action == "*" else f"every {action[:-2]} action"
            )
            ctx.report(
                "IAM001",
                stmt.rel,
                stmt.line,
                f"action {action!r} grants {scope}",
                "list the exact actions the code calls",
            )
        if wild or stmt.principal or stmt.resources is None or "*" not in stmt.resources:
            continue
        scoped = [
            a for a in stmt.actions if a not in RESOURCE_STAR_ALLOWED and a.split(":")[0] in known
        ]
        if scoped:
            ctx.report(
                "IAM003",
                stmt.rel,
                stmt.line,
                f"Resource '*' for {', '.join(scoped)}: the pattern declares the resource",
                "scope Resource to the ARN of the resource the pattern creates",
            )
    for rel in iac_files(ctx):
        text = ctx.read_text(rel)
        # Every name _FULL_ACCESS knows contains "Access" or "ACCESS": a cheap test first.
        if text is None or ("Access" not in text and "ACCESS" not in text):
            continue
        if not _FULL_ACCESS.search(text):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("#", "//", "*", "/*")) or _NAME_KEY.match(line):
                continue
            for m in _FULL_ACCESS.finditer(line):
                if _GUARD.search(line[: m.start()]):
                    continue
                name = m.group(1) or m.group(2)
                ctx.report(
                    "IAM002",
                    rel,
                    number,
                    f"managed policy {name} grants full access",
                    "attach a policy with the exact actions on the pattern's resources",
                )
