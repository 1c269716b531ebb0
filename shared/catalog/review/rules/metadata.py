"""metadata + naming: the pattern's metadata file, its schema, and folder names.

The schema and cross-field checks are `catalog.metadata.validate_metadata` (shared with
`catalog validate`); this module only chooses the file and schema and maps problem codes to rules.
"""

from __future__ import annotations

import re

from ...metadata import CATALOG_SCHEMA, PUBLIC_SCHEMA, validate_metadata
from .. import pathcase
from ..context import PatternContext
from ..discover import METADATA_FILE, is_metadata
from ..loaders import line_at, load_json
from ..model import rule
from . import check

rule(
    "META001",
    "metadata",
    "error",
    "metadata file missing at the pattern root",
    "orders-cdk/ has no example-pattern.json",
)
rule(
    "META002",
    "metadata",
    "error",
    "metadata file is not valid JSON",
    "example-pattern.json:12 invalid JSON: Expecting ',' delimiter",
)
rule(
    "META003",
    "metadata",
    "error",
    "metadata breaks the pattern schema",
    "title is 91 characters (max 75); authors/0/linkedin is a URL, not an id",
)
rule(
    "META004",
    "metadata",
    "error",
    "gitHub.template.projectFolder differs from the folder name",
    "projectFolder 'sqs-lambda' but the folder is 'sqs-lambda-cdk'",
)
rule(
    "META005",
    "metadata",
    "error",
    "templateFile contains projectFolder",
    "templateFile 'orders-sam/template.yaml' repeats projectFolder 'orders-sam'",
)
rule(
    "META006",
    "metadata",
    "error",
    "templateFile does not exist on disk",
    "templateFile 'template.yml' but the folder has template.yaml",
)
rule(
    "NAME001",
    "naming",
    "error",
    "projectFolder and folder name differ only in case",
    "projectFolder 'Lambda-Durable-CDK' for folder 'lambda-durable-cdk'",
)
rule(
    "NAME002",
    "naming",
    "warning",
    "pattern folder name is not lowercase-hyphen",
    "folder 'Lambda_Durable_CDK' (use 'lambda-durable-cdk')",
)

_FOLDER_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CODE_TO_RULE = {
    "metadata.missing": "META001",
    "metadata.invalid-json": "META002",
    "metadata.schema": "META003",
    "metadata.template-path": "META005",
    "metadata.template-missing": "META006",
}
_FIELD_HINTS = {
    "linkedin": "give the LinkedIn id only (the part after linkedin.com/in/), not a URL",
    "title": "keep the title at most 75 characters",
    "description": "keep the description at most 150 characters",
    "twitter": "give the handle only, not a URL",
}


def metadata_file(ctx: PatternContext) -> str | None:
    """`example-pattern.json`, or the public catalogue's other names for it at the pattern root:
    `<folder>.json`, `pattern.json`, `pattern-*.json`, `*-pattern.json`."""
    for name in (METADATA_FILE, f"{ctx.name}.json"):
        if name in ctx.file_set or (ctx.root / name).is_file():
            return name
    return next((f for f in sorted(ctx.top_level()) if is_metadata(ctx.root / f)), None)


def schema_for(ctx: PatternContext) -> str:
    return CATALOG_SCHEMA if ctx.flavour == "catalog" else PUBLIC_SCHEMA


@check("metadata", "META001", "META002", "META003", "META004", "META005", "META006", "NAME001")
def check_metadata(ctx: PatternContext) -> None:
    name = metadata_file(ctx)
    if name is None:
        ctx.report(
            "META001",
            ".",
            None,
            f"no {METADATA_FILE} (or {ctx.name}.json) at the pattern root",
            "add the metadata file: see _pattern-model/example-pattern.json in the public catalogue",
        )
        return
    if ctx.read_text(name) is None:  # binary, huge or unreadable: noticed already
        return
    path = ctx.root / name
    # Every reviewed folder is a pattern, wherever it sits (a public checkout has them at its top).
    for problem in validate_metadata(path, schema=schema_for(ctx), pattern_folder=True):
        _report_problem(ctx, name, problem.code, problem.line, problem.message)


def _report_problem(
    ctx: PatternContext, name: str, code: str, line: int | None, message: str
) -> None:
    if code == "metadata.unreadable":
        ctx.note(name, message)
        return
    if code == "metadata.folder-mismatch":
        case_only = "only in case" in message
        ctx.report(
            "NAME001" if case_only else "META004",
            name,
            line,
            message,
            f"set projectFolder to {ctx.name!r} (or rename the folder)",
        )
        return
    rule_id = _CODE_TO_RULE.get(code, "META003")
    hint = ""
    if rule_id == "META003":
        line = _path_line(ctx.read_text(name) or "", message) or line
        field = next((f for f in _FIELD_HINTS if re.search(rf"\b{f}\b", message)), None)
        hint = _FIELD_HINTS.get(field or "", "follow the pattern schema (_pattern-model)")
        if field == "linkedin" and "does not match" in message:
            message = f"{message.split(':', 1)[0]}: linkedin must be an id, not a URL ({message})"
    elif rule_id == "META006":
        if _below_project_folder(ctx, name, message):
            return  # templateFile is relative to projectFolder, a subfolder here: it exists
        message, hint = _with_case(ctx, message)
        line = _value_line(ctx.read_text(name) or "", message) or line
    elif rule_id == "META005":
        hint = "templateFile is relative to the pattern folder: drop the folder prefix"
    if code not in _CODE_TO_RULE and rule_id == "META003":
        message = f"{code}: {message}"
    ctx.report(rule_id, name, line, message, hint)


def _below_project_folder(ctx: PatternContext, name: str, message: str) -> bool:
    """projectFolder `<folder>/src` with templateFile `template.yml`: src/template.yml exists.
    The first part names the pattern folder; a misspelt one is META004's finding, not this."""
    match = re.search(r"templateFile '([^']+)'", message)
    try:
        data = load_json(ctx.read_text(name) or "")
        folder = str(data["gitHub"]["template"]["projectFolder"])
    except (ValueError, KeyError, TypeError):
        return False
    inside = folder.strip("/").partition("/")[2]
    return (
        match is not None
        and inside != ""
        and (ctx.root / inside / match.group(1).lstrip("/")).is_file()
    )


def _path_line(text: str, message: str) -> int | None:
    """The line of the value a schema message names by its JSON path (`authors/2/linkedin: ...`);
    the same key appears once per author, so the key alone gives the first one's line."""
    match = re.match(r"([\w$.-]+(?:/[\w$.-]+)+):", message)
    if not match:
        return None
    try:
        data = load_json(text)
    except ValueError:
        return None
    path = [int(p) if p.isdigit() else p for p in match.group(1).split("/")]
    return line_at(data, path)


def _with_case(ctx: PatternContext, message: str) -> tuple[str, str]:
    match = re.search(r"templateFile '([^']+)'", message)
    if match:
        found = pathcase.resolve(ctx.root, match.group(1))
        if found.status == "case":
            return (
                f"{message} (exists as {found.actual}; Linux is case-sensitive)",
                f"use {found.actual!r}",
            )
    return message, "point templateFile at the main IaC file, relative to the pattern folder"


def _value_line(text: str, message: str) -> int | None:
    """The line holding the file name the message quotes (a variant's templateFile, say)."""
    match = re.search(r"templateFile '([^']+)'", message)
    if not match:
        return None
    index = text.find(f'"{match.group(1)}"')
    return text.count("\n", 0, index) + 1 if index >= 0 else None


@check("naming", "NAME002")
def check_folder_name(ctx: PatternContext) -> None:
    if not _FOLDER_NAME.match(ctx.name):
        suggestion = re.sub(r"[^a-z0-9]+", "-", ctx.name.lower()).strip("-")
        ctx.report(
            "NAME002",
            ".",
            None,
            f"pattern folder {ctx.name!r} is not lowercase-hyphen",
            f"rename the folder to {suggestion!r} (and projectFolder with it)",
        )
