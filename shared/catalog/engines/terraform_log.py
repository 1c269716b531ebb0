"""Terraform's machine-readable log (`-json`): its own time for a command, and where it waited.

Each line is one JSON message with an `@timestamp`. Terraform's own time for a command is the span
from its first message (the version line, written at start) to its last; the wrapper's time minus
that is what the wrapper (and the process start and exit) added. `apply_complete` messages carry the
provider's time per resource (`elapsed_seconds`), which is where the provider itself waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class TerraformLog:
    messages: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, stdout: str) -> TerraformLog:
        messages = []
        for line in stdout.splitlines():
            if line.startswith("{"):
                try:
                    messages.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return cls(messages)

    def own_seconds(self) -> float | None:
        stamps = [_timestamp(m) for m in self.messages if "@timestamp" in m]
        return (max(stamps) - min(stamps)).total_seconds() if len(stamps) >= 2 else None

    def resource_seconds(self) -> dict[str, float]:
        """Provider time per resource address, for each create/update/delete that completed."""
        seconds: dict[str, float] = {}
        for message in self.messages:
            if message.get("type") == "apply_complete":
                hook = message.get("hook", {})
                address = hook.get("resource", {}).get("addr", "?")
                seconds[address] = float(hook.get("elapsed_seconds", 0))
        return seconds

    def errors(self) -> list[str]:
        lines = []
        for message in self.messages:
            if message.get("@level") == "error":
                diagnostic = message.get("diagnostic", {})
                detail = diagnostic.get("detail", "")
                lines.append(message.get("@message", "") + (f": {detail}" if detail else ""))
        return lines


def _timestamp(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(message["@timestamp"]).replace("Z", "+00:00"))
