"""Report renderers: text (terminal), json, github (workflow annotations + Markdown summary), sarif."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .model import RULES, Finding, Report

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVEL = {"error": "error", "warning": "warning", "notice": "note"}


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report)
    if fmt == "sarif":
        return json.dumps(to_sarif(report), indent=2) + "\n"
    if fmt == "github":
        return to_github(report)
    return to_text(report)


# ------------------------------------------------------------------ json
def to_json(report: Report) -> str:
    data = {"findings": [f.to_dict() for f in report.findings], "summary": report.summary()}
    return json.dumps(data, indent=2) + "\n"


# ------------------------------------------------------------------ text
def _where(f: Finding) -> str:
    return f"{f.path}:{f.line}" if f.line else f.path


def to_text(report: Report) -> str:
    by_pattern: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_pattern[f.pattern].append(f)
    notices = defaultdict(list)
    for n in report.notices:
        notices[n.pattern].append(n)
    lines: list[str] = []
    for summary in report.patterns:
        found = by_pattern.get(summary.name, [])
        if not found and not notices.get(summary.name):
            continue
        frameworks = ", ".join(summary.frameworks) or "no IaC found"
        counts = Counter(f.severity for f in found)
        tally = ", ".join(
            f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
            for s in ("error", "warning")
            if counts[s]
        )
        lines.append(f"{summary.path}  [{frameworks}]  {tally or 'no findings'}")
        for f in found:
            lines.append(f"  {f.severity:<7} {f.rule:<8} {_where(f)}")
            lines.append(f"          {f.message}")
            if f.hint:
                lines.append(f"          hint: {f.hint}")
        for n in notices.get(summary.name, []):
            lines.append(f"  not analysed  {n.path}: {n.reason}")
        lines.append("")
    clean = sum(1 for p in report.patterns if p.name not in by_pattern)
    s = report.summary()
    sev = s["by_severity"]
    lines.append(
        f"{s['patterns']} pattern(s) reviewed, {clean} without findings: {sev['error']} error(s), "
        f"{sev['warning']} warning(s), {len(report.notices)} not analysed, in {s['duration_s']:.2f} s"
        + ("" if report.checkov else " (checkov not run: --checkov)")
    )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ github
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: Report) -> list[str]:
    out = []
    for f in report.findings:
        level = {"error": "error", "warning": "warning"}.get(f.severity, "notice")
        props = [f"file={_escape_property(f.path)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.rule} ({f.category})')}")
        message = f.message + (f" -- {f.hint}" if f.hint else "")
        out.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    for n in report.notices:
        out.append(
            f"::notice file={_escape_property(n.path)},title=not analysed::{_escape_data(n.reason)}"
        )
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(report: Report, limit: int = 300) -> str:
    s = report.summary()
    sev = s["by_severity"]
    lines = [
        "## Pattern review",
        "",
        f"{s['patterns']} pattern(s): **{sev['error']} error(s)**, {sev['warning']} warning(s), "
        f"{len(report.notices)} item(s) not analysed"
        + ("" if report.checkov else " (checkov not run)")
        + ".",
        "",
    ]
    if s["by_category"]:
        lines += ["| category | findings |", "| --- | ---: |"]
        lines += [f"| {k} | {v} |" for k, v in s["by_category"].items()]
        lines.append("")
    if report.findings:
        lines += [
            "| severity | rule | pattern | location | message |",
            "| --- | --- | --- | --- | --- |",
        ]
        for f in report.findings[:limit]:
            lines.append(
                f"| {f.severity} | {f.rule} | {_md(f.pattern)} | `{_md(_where(f))}` | {_md(f.message)} |"
            )
        if len(report.findings) > limit:
            lines.append(
                f"\n... and {len(report.findings) - limit} more (see the annotations or the json format)."
            )
        lines.append("")
    if report.notices:
        lines += ["<details><summary>Not analysed</summary>", ""]
        lines += [f"- `{_md(n.path)}`: {_md(n.reason)}" for n in report.notices[:limit]]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def to_github(report: Report) -> str:
    return "\n".join(annotations(report)) + "\n"


# ------------------------------------------------------------------ sarif
def _uri(path: str) -> str:
    return Path(path).as_uri() if Path(path).is_absolute() else path


def to_sarif(report: Report) -> dict[str, Any]:
    rule_ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [
        {
            "id": r.id,
            "name": r.title,
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title}. Example: {r.example}"},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"category": r.category, "tags": [r.category]},
        }
        for r in (RULES[rid] for rid in rule_ids)
    ]
    results = []
    for f in report.findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.path)}}
        if f.line:
            location["region"] = {"startLine": f.line}
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
                "locations": [{"physicalLocation": location}],
                "properties": {"category": f.category, "pattern": f.pattern, "hint": f.hint},
            }
        )
    notifications = [
        {
            "level": "note",
            "message": {"text": f"not analysed: {n.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(n.path)}}}],
        }
        for n in report.notices
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "catalog-review", "version": "1.0.0", "rules": rules}},
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }
