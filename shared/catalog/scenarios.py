"""The scenario format of `events/*.json` (see shared/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FaultPhase = Literal["before", "after"]


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Fault:
    function: str
    error: str
    when: FaultPhase = "before"
    times: int = 1
    message: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    input: Any
    faults: tuple[Fault, ...] = ()
    seed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def expected_status(self) -> str | None:
        return self.expect.get("status")

    @property
    def expected_error(self) -> str | None:
        return self.expect.get("error")


def load_scenario(path: Path) -> Scenario:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict) or "input" not in raw:
        raise ScenarioError(f"{path}: a scenario is an object with at least an 'input' key")
    try:
        faults = tuple(Fault(**f) for f in raw.get("faults", []))
    except TypeError as exc:
        raise ScenarioError(f"{path}: bad fault entry ({exc})") from exc
    for fault in faults:
        if fault.when not in ("before", "after") or fault.times < 1:
            raise ScenarioError(f"{path}: fault {fault} needs when before|after and times >= 1")
    expect = raw.get("expect", {})
    if expect.get("status") not in (None, "SUCCEEDED", "FAILED"):
        raise ScenarioError(f"{path}: expect.status must be SUCCEEDED or FAILED")
    return Scenario(
        name=path.stem,
        description=str(raw.get("description", "")),
        input=raw["input"],
        faults=faults,
        seed=raw.get("seed", {}),
        expect=expect,
        path=path,
    )


def load_scenarios(events_dir: Path) -> dict[str, Scenario]:
    if not events_dir.is_dir():
        return {}
    return {p.stem: load_scenario(p) for p in sorted(events_dir.glob("*.json"))}
