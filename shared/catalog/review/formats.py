"""Report renderers: text (terminal), json, github (workflow annotations + Markdown summary), sarif."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
RULES_DOC = Path(__file__).with_name("RULES.md")
_RULES_DOC_IN_REPO = "shared/catalog/review/RULES.md"


def tool_version() -> str:
    """The installed package's version (pyproject's when run from a source tree)."""
    try:
        return metadata.version("serverless-pattern-catalog")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
        with pyproject.open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])


def _help_uri(rule_id: str) -> str:
    """RULES.md on the repository at this commit when run by GitHub Actions, else the local copy."""
    server, repo, sha = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")
    )
    anchor = f"#{rule_id.lower()}"
    if server and repo and sha:
        return f"{server}/{repo}/blob/{sha}/{_RULES_DOC_IN_REPO}{anchor}"
    return RULES_DOC.resolve().as_uri() + anchor


def _relative_uri(path: str, base: Path) -> str:
    """Repository-relative (POSIX) URI: never an absolute path."""
    candidate = Path(path)
    if candidate.is_absolute():
        candidate = Path(os.path.relpath(candidate, base))
    return quote(candidate.as_posix())


def _fingerprint(f: Finding) -> str:
    """Stable across runs and line moves: rule, pattern, file and message."""
    key = "\0".join((f.rule, f.pattern, Path(f.path).as_posix(), f.message))
    return hashlib.sha256(key.encode()).hexdigest()


def to_sarif(report: Report, base: Path | None = None) -> dict[str, Any]:
    """SARIF 2.1.0: URIs relative to `base` (the working directory: the repository root in CI)
    under `%SRCROOT%`, one result per finding at file level, not-analysed items as tool
    execution notifications."""
    base = (base or Path.cwd()).resolve()
    rule_ids = sorted(RULES)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [
        {
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title}. Example: {r.example}"},
            "help": {
                "text": f"{r.id} ({r.category}, {r.severity}): {r.title}. Example: {r.example}. "
                f"Every rule is described in {_RULES_DOC_IN_REPO}.",
                "markdown": f"**{r.id}** ({r.category}, {r.severity}): {r.title}.\n\n"
                f"Example: `{r.example}`\n\nSee `{_RULES_DOC_IN_REPO}`.",
            },
            "helpUri": _help_uri(r.id),
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"category": r.category, "tags": [r.category]},
        }
        for r in (RULES[rid] for rid in rule_ids)
    ]
    results = []
    for f in report.findings:
        location: dict[str, Any] = {
            "artifactLocation": {"uri": _relative_uri(f.path, base), "uriBaseId": "%SRCROOT%"}
        }
        if f.line:
            location["region"] = {"startLine": f.line}
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"catalogFindingHash/v1": _fingerprint(f)},
                "properties": {"category": f.category, "pattern": f.pattern, "hint": f.hint},
            }
        )
    notifications = []
    for n in report.notices:
        uri = _relative_uri(n.path, base)
        note: dict[str, Any] = {"level": "note", "message": {"text": f"not analysed: {n.reason}"}}
        target = Path(n.path) if Path(n.path).is_absolute() else base / n.path
        if target.is_file():
            note["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}}
            ]
        else:  # a folder (vendored tree, tooling folder): named in the text, never a location
            note["message"]["text"] = f"not analysed: {uri}: {n.reason}"
        notifications.append(note)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "catalog-review",
                        "version": tool_version(),
                        "informationUri": _help_uri("rules").split("#")[0],
                        "rules": rules,
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }
