"""What every driver receives and returns, and what a pattern's metadata says a report shows."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..localaws import LocalAws
    from ..patterns import Pattern

# task: a state machine task; step / invoke / wait: durable operations; request: the scenario's
# requests (HTTP, messages, invocations); function: a function run by an event source; delivery:
# events a bus delivered; compensation: a step that undoes another.
StepKind = Literal[
    "task", "step", "invoke", "wait", "compensation", "request", "function", "delivery"
]


class DriverError(Exception):
    """A scenario could not be run (not: the scenario ran and failed)."""


@dataclass(frozen=True)
class StepRecord:
    name: str
    kind: StepKind
    attempts: int = 1
    ok: bool = True


@dataclass
class ScenarioResult:
    scenario: str
    status: str  # SUCCEEDED | FAILED
    error: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def compensations(self) -> list[str]:
        return [s.name for s in self.steps if s.kind == "compensation"]


@dataclass(frozen=True)
class ReportStep:
    """One step an event-driven report lists (metadata `catalog.report.steps[]`)."""

    name: str
    observe: str  # "requests" | "function" | "eventbridge"
    function: str | None = None  # short name (function_names key) for function / eventbridge


@dataclass(frozen=True)
class ReportSpec:
    """What a report shows, from metadata `catalog.report` (schema: catalog-pattern.schema.json):
    `tables` (logical names; default every table), `linkKeys` (attributes that link one run's rows
    across tables), `steps` (event-driven patterns: the steps, listed as given) and `compensations`
    (step names, shell-style patterns allowed, that undo another step)."""

    tables: tuple[str, ...] | None = None
    link_keys: tuple[str, ...] = ()
    steps: tuple[ReportStep, ...] = ()
    compensations: tuple[str, ...] = ()

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> ReportSpec:
        report = (metadata.get("catalog") or {}).get("report") or {}
        tables = report.get("tables")
        return cls(
            tables=tuple(tables) if tables is not None else None,
            link_keys=tuple(report.get("linkKeys") or ()),
            steps=tuple(
                ReportStep(str(s["name"]), str(s["observe"]), s.get("function"))
                for s in report.get("steps") or ()
            ),
            compensations=tuple(report.get("compensations") or ()),
        )

    def is_compensation(self, step_name: str) -> bool:
        return any(fnmatch.fnmatchcase(step_name, p) for p in self.compensations)


@dataclass
class DriverContext:
    pattern: Pattern
    outputs: dict[str, Any]
    aws: LocalAws | None = None  # None: real AWS, faults cannot be injected
    session: Any = None  # a boto3 Session for real AWS

    @property
    def report(self) -> ReportSpec:
        return ReportSpec.of(self.pattern.metadata)

    @property
    def driver_settings(self) -> Mapping[str, Any]:
        """Metadata `catalog.driver` (the kind and what that kind needs)."""
        return (self.pattern.metadata.get("catalog") or {}).get("driver") or {}

    def client(self, service: str) -> Any:
        if self.aws is not None:
            return self.aws.client(service)
        import boto3

        return (self.session or boto3.Session()).client(service)

    def apply_faults(self, scenario: Any) -> list[dict[str, Any]]:
        """Register the scenario's faults on the embedded AWS (by deployed function name when the
        scenario names a function by its short name); returns them as plain dicts. Against real
        AWS nothing is injected."""
        names = dict(self.outputs.get("function_names") or {})
        faults = [
            {"function": f.function, "error": f.error, "when": f.when, "times": f.times}
            for f in scenario.faults
        ]
        if self.aws is not None:
            for fault in scenario.faults:
                self.aws.faults.add(
                    names.get(fault.function, fault.function),
                    fault.error,
                    when=fault.when,
                    times=fault.times,
                    message=fault.message,
                )
        return faults
