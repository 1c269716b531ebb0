"""Discovery: every folder in patterns/ is a pattern; nothing is registered anywhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .packaging import FunctionSpec, function_specs
from .scenarios import Scenario, load_scenarios

REPO_ROOT = Path(__file__).resolve().parents[2]
PATTERNS_DIR = REPO_ROOT / "patterns"
METADATA_FILE = "example-pattern.json"
# Written by `catalog export`: the folder stands on its own (its modules and build script inside).
EXPORT_MARKER = ".catalog-export.json"


class PatternError(Exception):
    """A pattern name or folder that cannot be used; the message says why."""


@dataclass(frozen=True)
class Pattern:
    root: Path
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.root.name)

    @cached_property
    def metadata(self) -> dict[str, Any]:
        path = self.root / METADATA_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise PatternError(f"{path}: metadata file is missing") from exc
        except json.JSONDecodeError as exc:
            raise PatternError(f"{path}: invalid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise PatternError(f"{path}: metadata must be a JSON object")
        return data

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", self.name))

    @property
    def services(self) -> list[str]:
        return list(self.metadata.get("catalog", {}).get("services", []))

    @property
    def variants(self) -> list[str]:
        return sorted(self.metadata.get("variants", {}))

    @property
    def driver_kind(self) -> str:
        return str(self.metadata.get("catalog", {}).get("driver", {}).get("kind", ""))

    @property
    def exported(self) -> bool:
        """A folder `catalog export` wrote: deployed and built from its own files only."""
        return (self.root / EXPORT_MARKER).is_file()

    @property
    def terraform_dir(self) -> Path:
        return self.root / "terraform"

    @property
    def pulumi_dir(self) -> Path:
        return self.root / "pulumi"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @cached_property
    def functions(self) -> list[FunctionSpec]:
        return function_specs(self.root)

    @cached_property
    def scenarios(self) -> dict[str, Scenario]:
        return load_scenarios(self.root / "events")


def discover(patterns_dir: Path = PATTERNS_DIR) -> list[Pattern]:
    if not patterns_dir.is_dir():
        return []
    return [Pattern(p) for p in sorted(patterns_dir.iterdir()) if p.is_dir()]


def load(name_or_path: str) -> Pattern:
    """A pattern by name (a folder in patterns/) or by path."""
    path = Path(name_or_path)
    candidate = (
        path if path.is_dir() and (path / METADATA_FILE).exists() else PATTERNS_DIR / name_or_path
    )
    if not candidate.is_dir():
        known = ", ".join(p.name for p in discover()) or "none"
        raise PatternError(f"unknown pattern {name_or_path!r} (known: {known})")
    return Pattern(candidate.resolve())
