"""Findings, rules and the report: the vocabulary every other review module speaks."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "notice"]
SEVERITY_RANK: dict[str, int] = {"notice": 0, "warning": 1, "error": 2}

CATEGORIES: tuple[str, ...] = (
    "metadata",
    "repo-hygiene",
    "docs",
    "naming",
    "paths",
    "log-retention",
    "removal-policy",
    "atomicity",
    "durable-determinism",
    "durable-nesting",
    "durable-invoke",
    "iam",
    "state-machine",
    "runtime",
    "security-scan",
    "scenario",
    "unreadable",
)


@dataclass(frozen=True)
class Rule:
    """One stable rule id; RULES.md documents every one (tests keep the two in sync)."""

    id: str
    category: str
    severity: Severity
    title: str
    example: str


RULES: dict[str, Rule] = {}


def rule(id: str, category: str, severity: Severity, title: str, example: str) -> Rule:
    """Register a rule once, at import time of the module that owns it."""
    if category not in CATEGORIES:
        raise ValueError(f"{id}: unknown category {category!r}")
    if id in RULES:
        raise ValueError(f"rule {id} registered twice")
    RULES[id] = Rule(id, category, severity, title, example)
    return RULES[id]


@dataclass(frozen=True, order=True)
class Finding:
    pattern: str
    path: str  # as displayed: relative to the working directory when below it
    line: int | None
    rule: str
    category: str
    severity: Severity
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: data[k] for k in FINDING_KEYS}


FINDING_KEYS = ("rule", "category", "severity", "pattern", "path", "line", "message", "hint")


@dataclass(frozen=True, order=True)
class Notice:
    """Something the review could not analyse (unreadable, binary, huge, a crash in a rule...)."""

    pattern: str
    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class PatternSummary:
    name: str
    path: str
    frameworks: list[str]


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    patterns: list[PatternSummary] = field(default_factory=list)
    duration_s: float = 0.0
    checkov: bool = False

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def worst(self) -> int:
        """Rank of the most severe finding (-1 when there is none)."""
        return max((SEVERITY_RANK[f.severity] for f in self.findings), default=-1)

    def fails(self, threshold: str) -> bool:
        return self.worst() >= SEVERITY_RANK[threshold]

    def summary(self) -> dict[str, Any]:
        by_severity = Counter(f.severity for f in self.findings)
        return {
            "patterns": len(self.patterns),
            "findings": len(self.findings),
            "by_severity": {s: by_severity.get(s, 0) for s in ("error", "warning", "notice")},
            "by_category": dict(sorted(Counter(f.category for f in self.findings).items())),
            "by_rule": dict(sorted(Counter(f.rule for f in self.findings).items())),
            "frameworks": dict(
                sorted(Counter(fw for p in self.patterns for fw in p.frameworks).items())
            ),
            "not_analysed": [n.to_dict() for n in self.notices],
            "checkov": self.checkov,
            "duration_s": round(self.duration_s, 3),
        }
