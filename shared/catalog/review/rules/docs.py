"""docs: the README (standard sections via catalog.metadata), placeholders and AWS service names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ...metadata import README_SECTIONS, check_readme, readme_sections
from ..context import PatternContext
from ..model import rule
from . import check
from .metadata import metadata_file

rule("DOC001", "docs", "error", "README.md missing", "orders-sam/ has no README.md")
rule(
    "DOC002",
    "docs",
    "error",
    "README misses a standard section",
    "README has no '## Cleanup' section (Requirements, Deployment Instructions, How it works, "
    "Testing, Cleanup)",
)
rule(
    "DOC003",
    "docs",
    "error",
    "template placeholder left in README or metadata",
    "README.md:3 'This pattern << explain usage >>'; metadata author 'Your name'",
)
rule(
    "DOC004",
    "docs",
    "warning",
    "AWS service name wrong on first reference",
    "README.md:7 first reference 'DynamoDB' should be 'Amazon DynamoDB'; 'AWS EventBridge'",
)
rule(
    "DOC005",
    "docs",
    "warning",
    "'Lambda durable functions' capitalised",
    "README.md:1 'Lambda Durable Functions' should be 'Lambda durable functions'",
)
rule(
    "DOC006",
    "docs",
    "error",
    "catalog: Deployment Instructions do not cover both engines",
    "Deployment Instructions do not cover Pulumi",
)
rule(
    "DOC007",
    "docs",
    "warning",
    "catalog: How it works has no Mermaid diagram",
    "'## How it works' without a ```mermaid block",
)
rule(
    "DOC008",
    "docs",
    "error",
    "catalog: README command that cannot run",
    "`catalog deplyo orders` (no such subcommand); `cd terraform-x` (no such folder)",
)

_CATALOG_ONLY = {
    "docs.missing-engine": "DOC006",
    "docs.missing-diagram": "DOC007",
    "docs.bad-command": "DOC008",
}

PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(rx))
    for label, rx in (
        ("<< ... >>", r"<<[^<>\n]{1,80}>>"),
        ("<pattern-name>", r"<(?:pattern[-_ ]name|your[-_ ][a-z -]+|project[-_ ]folder)>"),
        ("Your name", r"\b[Yy]our (?:name|bio|full name)\b"),
        (
            "Insert ...",
            r"\[?\b(?:Insert|INSERT) (?:your |the |a |an )?[A-Za-z][^.\n]{0,60}(?:here|\])",
        ),
        ("TODO", r"\b(?:TODO|FIXME|TBD)\b"),
        (
            "model text",
            r"Explain how the service interaction works|Provide steps to trigger the "
            r"integration|AWS Service 1 to AWS Service 2|cd _patterns?-model",
        ),
        ("model author", r"link-to-your-photo|linked-in-ID|twitter-handle"),
    )
)

# (bare name, correct first reference, accepted long forms)
SERVICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # "Lambda durable functions" is the feature's own name, correct on first reference.
    ("Lambda", "AWS Lambda", ("Lambda durable functions",)),
    ("DynamoDB", "Amazon DynamoDB", ()),
    ("CloudWatch", "Amazon CloudWatch", ()),
    ("Step Functions", "AWS Step Functions", ()),
    ("EventBridge", "Amazon EventBridge", ()),
    ("SQS", "Amazon SQS", ("Amazon Simple Queue Service",)),
    ("SNS", "Amazon SNS", ("Amazon Simple Notification Service",)),
    ("API Gateway", "Amazon API Gateway", ()),
    ("S3", "Amazon S3", ("Amazon Simple Storage Service",)),
)


def _service_patterns(
    short: str, proper: str, longs: tuple[str, ...]
) -> tuple[re.Pattern[str], ...]:
    """Any form of the name (first reference), and the name with the wrong prefix."""
    bare = re.escape(short).replace(r"\ ", r"\s+")
    longs_rx = "|".join(re.escape(x).replace(r"\ ", r"\s+") for x in longs) or "(?!x)x"
    wrong_prefix = "Amazon" if proper.startswith("AWS") else "AWS"
    return (
        re.compile(rf"(?:\b(?:{longs_rx})\b)|(?:\b((?:AWS|Amazon)\s+)?{bare}(?![\w@-]))"),
        re.compile(rf"\b{wrong_prefix}\s+{bare}(?![\w-])"),
    )


_SERVICE_RX = tuple(_service_patterns(*service) for service in SERVICES)
_DURABLE = re.compile(r"(?<!Azure )\b(?:(?:AWS\s+)?Lambda\s+)?Durable\s+Functions\b")


def readme_file(ctx: PatternContext) -> str | None:
    for rel in ctx.top_level():
        if rel.lower() == "readme.md":
            return rel
    return None


@check("readme", "DOC001", "DOC002", "DOC006", "DOC007", "DOC008")
def check_sections(ctx: PatternContext) -> None:
    name = readme_file(ctx)
    if name is None:
        ctx.report(
            "DOC001",
            ".",
            None,
            "README.md is missing",
            "copy the README model of the public catalogue and fill every section",
        )
        return
    text = ctx.read_text(name)
    if text is None:
        return
    if ctx.flavour == "public":
        found = [s.lower().rstrip(" :.") for s in readme_sections(text)]
        for section in README_SECTIONS:
            # "Deployment Instructions Part 1" covers the section too
            if not any(s == section.lower() or s.startswith(f"{section.lower()} ") for s in found):
                ctx.report(
                    "DOC002",
                    name,
                    None,
                    f"README has no '## {section}' section",
                    f"add a '## {section}' section",
                )
        return
    for problem in check_readme(ctx.root / name, ctx.root.parent.parent):
        if problem.code == "docs.missing-section":
            ctx.report("DOC002", name, problem.line, problem.message, "add the section")
        elif problem.code in _CATALOG_ONLY:
            ctx.report(_CATALOG_ONLY[problem.code], name, problem.line, problem.message)
        elif problem.code == "docs.readme-unreadable":
            ctx.note(name, problem.message)


_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")


@lru_cache(maxsize=64)
def _prose(text: str) -> tuple[str, ...]:
    return tuple(_prose_lines(text))


def prose(text: str) -> list[str]:
    """The text's lines with fenced code, inline code, URLs and HTML comments blanked."""
    return list(_prose(text))


def _prose_lines(text: str) -> list[str]:
    """The text's lines with fenced code, inline code, URLs and HTML comments blanked."""
    text = re.sub(r"<!--.*?-->", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.DOTALL)
    out, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            out.append("")
            continue
        if fence:
            out.append("")
            continue
        if "`" in line:
            line = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        if "](" in line:
            line = _LINK_TARGET.sub(lambda m: "]" + " " * (len(m.group(0)) - 1), line)
        if "[" in line:  # `Amazon [API Gateway](...)`: the link text reads as prose
            line = line.replace("[", " ").replace("]", " ")
        if "://" in line:
            line = _URL.sub(lambda m: " " * len(m.group(0)), line)
        out.append(line)
    return out


def _placeholders(text: str, *, skip_code: bool) -> Iterator[tuple[int, str, str]]:
    lines = prose(text) if skip_code else text.splitlines()
    # No placeholder spans a line break, so one search of the whole text rules most labels out.
    whole = "\n".join(lines)
    present = [(label, pattern) for label, pattern in PLACEHOLDERS if pattern.search(whole)]
    if not present:
        return
    for number, line in enumerate(lines, start=1):
        for label, pattern in present:
            m = pattern.search(line)
            if m:
                yield number, label, m.group(0)


@check("placeholders", "DOC003")
def check_placeholders(ctx: PatternContext) -> None:
    for rel in filter(None, (readme_file(ctx), metadata_file(ctx))):
        text = ctx.read_text(rel)
        if text is None:
            continue
        for line, label, found in _placeholders(text, skip_code=rel.lower().endswith(".md")):
            ctx.report(
                "DOC003",
                rel,
                line,
                f"leftover placeholder {found!r} ({label})",
                "replace the template text with this pattern's own content",
            )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


@check("service-names", "DOC004", "DOC005")
def check_service_names(ctx: PatternContext) -> None:
    name = readme_file(ctx)
    text = ctx.read_text(name) if name else None
    if name is None or text is None:
        return
    lines = prose(text)
    title_index = next((i for i, line in enumerate(lines) if re.match(r"#\s", line)), -1)
    # The title and the body each need the full name at their first reference.
    title = "\n".join(line if i == title_index else "" for i, line in enumerate(lines))
    body = "\n".join("" if i == title_index else line for i, line in enumerate(lines))
    everything = "\n".join(lines)
    for (short, proper, longs), (any_form, wrong_form) in zip(SERVICES, _SERVICE_RX, strict=True):
        if not any(name.split()[0] in everything for name in (short, *longs)):
            continue  # every form of the name starts with one of these words
        for part in (title, body):
            m = any_form.search(part)
            if m is None:
                continue
            if m.group(1) is None and not any(re.match(x, m.group(0)) for x in longs):
                ctx.report(
                    "DOC004",
                    name,
                    _line_of(part, m.start()),
                    f"first reference {short!r} should be {proper!r}",
                    f"write {proper!r} the first time, {short!r} afterwards",
                )
        for m in wrong_form.finditer(everything):
            ctx.report(
                "DOC004",
                name,
                _line_of(everything, m.start()),
                f"{' '.join(m.group(0).split())!r} is not the service name",
                f"write {proper!r}",
            )
    for rel, rel_text in ((name, everything), *_metadata_texts(ctx)):
        if "Durable" not in rel_text:
            continue
        for m in _DURABLE.finditer(rel_text):
            ctx.report(
                "DOC005",
                rel,
                _line_of(rel_text, m.start()),
                f"{' '.join(m.group(0).split())!r}: the feature is called 'Lambda durable functions'"
                " (lowercase)",
                "write 'AWS Lambda durable functions' first, then 'Lambda durable functions' "
                "or 'durable functions'",
            )


def _metadata_texts(ctx: PatternContext) -> list[tuple[str, str]]:
    rel = metadata_file(ctx)
    text = ctx.read_text(rel) if rel else None
    return [(rel, text)] if rel and text else []
