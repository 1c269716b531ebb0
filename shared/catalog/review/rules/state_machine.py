"""state-machine: statelint (in process) and cfn-lint E3601 (worker process, cached) on every
definition: *.asl.json/yaml files, SAM/CloudFormation Definition/DefinitionString, Terraform
`definition = jsonencode(...)`. `${...}` placeholders are replaced by fake ARNs first."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from ... import asl
from ...asl import FAKE_ARN, substitute_placeholders
from .. import cache
from ..cfnlint_client import CfnJob
from ..context import PatternContext
from ..discover import detect
from ..iac import cfn, terraform
from ..loaders import LDict, LList, key_line, line_at, load_json, load_yaml
from ..model import rule
from . import check

rule(
    "SFN001",
    "state-machine",
    "error",
    "statelint problem in a state machine definition",
    'No state found named "Shipp", referenced at State Machine.States.Charge.Next',
)
rule(
    "SFN002",
    "state-machine",
    "error",
    "cfn-lint E3601 problem in a state machine definition",
    "E3601 'Taskx' is not one of ['Pass', 'Task', ...] at States/Charge/Type",
)
rule(
    "SFN003",
    "state-machine",
    "error",
    "state machine definition cannot be parsed",
    "saga.asl.json:14 invalid JSON: Expecting ',' delimiter",
)

FAKE_ROLE = "arn:aws:iam::123456789012:role/state-machine"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_DEF_DIRS = {
    "statemachine",
    "statemachines",
    "state-machine",
    "state-machines",
    "state_machine",
    "stepfunctions",
    "step-functions",
    "workflows",
    "sfn",
}


def _token(name: str) -> str:
    """A stand-in for `${name}` inside a longer string (an ARN, most often)."""
    n = name.lower()
    if "partition" in n:
        return "aws"
    if "region" in n:
        return "us-east-1"
    if "account" in n:
        return "123456789012"
    return "placeholder"


def _leftovers(value: Any) -> Any:
    """What `substitute_placeholders` leaves: `${AWS::Region}`, `${aws_x.y.arn}`, and intrinsic
    functions of templates (`{"Ref": ...}`, `{"Fn::GetAtt": ...}`, `{"Fn::Sub": ...}`)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                return _leftovers(text) if isinstance(text, str) else "placeholder"
            if fn in ("Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::If"):
                return FAKE_ARN.format(name="placeholder")
        return {k: _leftovers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_leftovers(v) for v in value]
    if isinstance(value, str) and "${" in value:
        if _PLACEHOLDER.fullmatch(value):
            return FAKE_ARN.format(name="placeholder")
        return _PLACEHOLDER.sub(lambda m: _token(m.group(1)), value)
    return value


def linted_form(body: Any) -> Any:
    """The definition the linters see: placeholders replaced by fake ARNs (catalog.asl)."""
    return _leftovers(json.loads(substitute_placeholders(json.dumps(body))))


def _unquoted_placeholders(text: str) -> str:
    """`"TimeoutSeconds": ${timeout}` -> a JSON string at the same place (lines kept)."""
    out, in_string, i = [], False, 0
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith("${", i):
            end = text.find("}", i)
            if end > 0:
                out.append('"' + text[i : end + 1].replace('"', "'") + '"')
                i = end + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class Definition:
    rel: str
    body: Any  # as written (LDict/LList keep the lines)
    fixed_line: int | None = None  # definitions parsed from a string: every problem goes here
    label: str = ""

    @property
    def linted(self) -> Any:
        return linted_form(self.body)

    def line(self, path: list[str | int]) -> int | None:
        if self.fixed_line is not None:
            return self.fixed_line
        return line_at(self.body, path)


@dataclass
class Collected:
    jobs: list[CfnJob] = field(default_factory=list)


# ------------------------------------------------------------------ discovery
def definition_files(ctx: PatternContext) -> list[str]:
    out = []
    for rel in ctx.files:
        if not ctx.visible(rel):
            continue
        name = PurePosixPath(rel).name.lower()
        if re.search(r"\.asl\.(json|ya?ml)$", name):
            out.append(rel)
        elif name.endswith(".json") and _DEF_DIRS & {
            p.lower() for p in PurePosixPath(rel).parts[:-1]
        }:
            text = ctx.read_text(rel) or ""
            if '"StartAt"' in text and '"States"' in text:
                out.append(rel)
    return out


def _from_file(ctx: PatternContext, rel: str) -> Definition | None:
    text = ctx.read_text(rel)
    if text is None:
        return None
    try:
        if rel.lower().endswith(".json"):
            try:
                body = load_json(text)
            except ValueError:
                body = load_json(_unquoted_placeholders(text))
        else:
            body = load_yaml(text)
    except json.JSONDecodeError as exc:
        ctx.report(
            "SFN003",
            rel,
            exc.lineno,
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            'fix the JSON; placeholders belong inside strings: "${FunctionArn}"',
        )
        return None
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        ctx.report("SFN003", rel, mark.line + 1 if mark else None, f"invalid definition: {exc}")
        return None
    if not isinstance(body, dict):
        ctx.report("SFN003", rel, 1, "a definition must be a JSON object with StartAt and States")
        return None
    return Definition(rel, body, label=rel)


def _from_templates(ctx: PatternContext, rels: list[str]) -> list[Definition]:
    out = []
    for template in cfn.templates(ctx, rels):
        for logical, body in template.resources.items():
            if not isinstance(body, dict) or body.get("Type") not in cfn.STATE_MACHINE_TYPES:
                continue
            props = body.get("Properties") or {}
            path = ["Resources", logical, "Properties"]
            definition = props.get("Definition")
            if isinstance(definition, dict) and "States" in definition:
                out.append(Definition(template.rel, definition, label=f"{logical}.Definition"))
                continue
            raw = props.get("DefinitionString")
            if raw is None:
                continue
            line = line_at(template.data, [*path, "DefinitionString"])
            text = _definition_text(raw)
            if text is None:
                ctx.note(
                    template.rel, f"{logical}.DefinitionString is built with intrinsics: not linted"
                )
                continue
            try:
                parsed = json.loads(_unquoted_placeholders(text))
            except ValueError as exc:
                ctx.report(
                    "SFN003",
                    template.rel,
                    line,
                    f"{logical}.DefinitionString is not valid JSON: {exc}",
                )
                continue
            out.append(Definition(template.rel, parsed, line, f"{logical}.DefinitionString"))
    return out


def _definition_text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and len(raw) == 1:
        ((fn, arg),) = raw.items()
        if fn == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            return text if isinstance(text, str) else None
        if (
            fn == "Fn::Join"
            and isinstance(arg, list)
            and len(arg) == 2
            and isinstance(arg[1], list)
        ):
            parts = [p if isinstance(p, str) else "${x}" for p in arg[1]]
            return str(arg[0]).join(parts)
    return None


def _from_terraform(ctx: PatternContext, folders: list[str]) -> list[Definition]:
    out = []
    for project in terraform.projects(ctx, folders):
        for block in project.blocks:
            if block.block != "resource" or block.type != "aws_sfn_state_machine":
                continue
            value = block.body.get("definition")
            parsed = terraform.json_document(value) if isinstance(value, str) else None
            if isinstance(parsed, dict) and "States" in parsed:
                line = terraform.attr_line(block.file, block.line, "definition")
                out.append(
                    Definition(
                        terraform.rel_to(ctx, block.file),
                        parsed,
                        line,
                        f"{block.type}.{block.name}.definition",
                    )
                )
    return out


def definitions(ctx: PatternContext) -> list[Definition]:
    fw = detect(ctx)
    found = [d for rel in definition_files(ctx) if (d := _from_file(ctx, rel)) is not None]
    return found + _from_templates(ctx, fw.templates) + _from_terraform(ctx, fw.terraform)


# ------------------------------------------------------------------ statelint
def _statelint_path(body: Any, message: str) -> list[str | int]:
    """`... at State Machine.States.Charge Payment.Retry[0]` -> ["States", "Charge Payment", "Retry", 0]."""
    index = message.rfind("State Machine")
    if index < 0:
        return []
    rest, node, path = message[index + len("State Machine") :], body, []
    while rest.startswith(".") or rest.startswith("["):
        if rest.startswith("["):
            m = re.match(r"\[(\d+)\]", rest)
            if not m or not isinstance(node, list) or int(m.group(1)) >= len(node):
                break
            path.append(int(m.group(1)))
            node, rest = node[int(m.group(1))], rest[m.end() :]
            continue
        rest = rest[1:]
        if not isinstance(node, dict):
            break
        if node is body and isinstance(body.get("States"), dict) and not rest.startswith("States"):
            path.append("States")  # "State Machine.Store" names a state
            node = body["States"]
        keys = sorted(
            (
                k
                for k in node
                if rest.startswith(k) and rest[len(k) : len(k) + 1] in ("", ".", "[", " ", ",")
            ),
            key=len,
            reverse=True,
        )
        if not keys:
            break
        path.append(keys[0])
        node, rest = node[keys[0]], rest[len(keys[0]) :]
    return path


_FIELD_PROBLEM = re.compile(
    r'Field "(?P<field>[^"]+)" of (?P<where>\w+) at "(?P<at>[^"]+)" is not a JSONPath'
)
_JSONPATH_FILTER = re.compile(r"^\$.*\[\s*\?\s*\(.*\)\s*\]")


def _path_field(body: Any, message: str) -> tuple[str, list[str | int]] | None:
    """The value and path of the field a 'not a JSONPath' problem names."""
    m = _FIELD_PROBLEM.search(message)
    if not m:
        return None
    state = _statelint_path(body, m.group("at"))[:2]
    node: Any = body
    for part in state:
        node = node[part]
    stack: list[tuple[Any, list[str | int]]] = [
        (node.get(m.group("where")) if isinstance(node, dict) else None, [*state, m.group("where")])
    ]
    while stack:
        current, path = stack.pop()
        if isinstance(current, dict):
            for key, child in current.items():
                if key == m.group("field") and isinstance(child, str):
                    return child, [*path, key]
                stack.append((child, [*path, key]))
        elif isinstance(current, list):
            stack.extend((child, [*path, i]) for i, child in enumerate(current))
    return None


def statelint_problems(definition: Any) -> list[str]:
    """statelint's messages for a definition (cached by content: statelint is not imported then)."""
    digest = cache.key("statelint", cache.version("statelint"), "ignore FLOAT", definition)
    found = cache.get("statelint", digest)
    if isinstance(found, list):
        return [str(p) for p in found]
    problems = asl.statelint_problems(definition)
    cache.put("statelint", digest, problems)
    return problems


@check("state-machine", "SFN001", "SFN002", "SFN003")
def check_state_machines(ctx: PatternContext) -> None:
    collected: Collected = ctx.cache.setdefault("cfnlint", Collected())
    for definition in definitions(ctx):
        linted = definition.linted
        for problem in statelint_problems(linted):
            line = definition.line(_statelint_path(definition.body, problem))
            field = _path_field(definition.body, problem)
            if field is not None:
                value, field_path = field
                if _JSONPATH_FILTER.match(value):
                    continue  # `$[?(@.Name == 'Cat')]`: a JSONPath filter, which is valid
                line = definition.line(field_path)
            ctx.report(
                "SFN001",
                definition.rel,
                line,
                problem,
                "fix the definition (Amazon States Language)",
            )
        collected.jobs.append(_job(ctx, definition, linted))


def _lines(value: Any, prefix: tuple[str, ...] = ()) -> dict[str, int]:
    out: dict[str, int] = {}
    if isinstance(value, LDict):
        for k, v in value.items():
            path = (*prefix, str(k))
            if k in value.key_lines:
                out["/".join(path)] = value.key_lines[k]
            out.update(_lines(v, path))
    elif isinstance(value, LList):
        for i, v in enumerate(value):
            path = (*prefix, str(i))
            out["/".join(path)] = value.item_lines[i]
            out.update(_lines(v, path))
    return out


def _job(ctx: PatternContext, definition: Definition, linted: Any) -> CfnJob:
    template = asl.cfn_template(linted)
    lines = {} if definition.fixed_line is not None else _lines(definition.body)
    default = (
        definition.fixed_line
        if definition.fixed_line is not None
        else key_line(definition.body, "States")
    )
    return CfnJob(ctx.name, ctx.display(definition.rel), template, lines, default)
