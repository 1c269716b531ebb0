"""What every driver receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..localaws import LocalAws
    from ..patterns import Pattern
    from ..scenarios import Scenario

StepKind = Literal[
    "task", "step", "invoke", "wait", "compensation", "api", "relay", "bus", "consumer"
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


@dataclass
class DriverContext:
    pattern: Pattern
    outputs: dict[str, Any]
    aws: LocalAws | None = None  # None: real AWS, faults cannot be injected
    session: Any = None  # a boto3 Session for real AWS

    def inject_faults(self, scenario: Scenario) -> None:
        """The scenario's faults, on the embedded AWS only (real AWS cannot inject them)."""
        if self.aws is None:
            return
        for fault in scenario.faults:
            self.aws.faults.add(
                fault.function,
                fault.error,
                when=fault.when,
                times=fault.times,
                message=fault.message,
            )

    def client(self, service: str) -> Any:
        if self.aws is not None:
            return self.aws.client(service)
        import boto3

        return (self.session or boto3.Session()).client(service)
