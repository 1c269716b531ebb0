"""Live progress of `terraform apply` / `destroy`: resources done of total, as Terraform reports them.

Fed one line of Terraform's streamed output at a time, in either of its formats: the machine-readable
one (`-json`: a `change_summary` message gives the total, each `apply_complete` one resource) or
the human one ("Plan: 3 to add, 1 to change, 0 to destroy.", "aws_sqs_queue.x: Creation complete
after 25s"). It echoes one line per finished resource; anything else is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

_PLAN = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_COMPLETE = re.compile(
    r"^(?P<address>\S+): (?P<what>Creation|Modifications|Destruction) complete after (?P<after>\S+)"
)
_VERBS = {"Creation": "created", "Modifications": "updated", "Destruction": "destroyed"}
_ACTIONS = {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}


@dataclass
class TerraformProgress:
    """An `on_line` handler for one terraform command."""

    echo: Callable[[str], None]
    phase: str
    total: int | None = None
    done: int = 0

    def __call__(self, line: str) -> None:
        line = line.strip()
        if line.startswith("{"):
            self._message(line)
        else:
            self._text(line)

    def _message(self, line: str) -> None:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "change_summary":
            changes = message.get("changes") or {}
            if changes.get("operation") in ("apply", "destroy") and self.total is not None:
                return  # the closing summary repeats the count
            self.total = sum(int(changes.get(key, 0)) for key in ("add", "change", "remove"))
        elif message.get("type") == "apply_complete":
            hook = message.get("hook") or {}
            address = (hook.get("resource") or {}).get("addr", "?")
            action = _ACTIONS.get(hook.get("action", ""), hook.get("action", "done"))
            self._finished(address, action, f"{hook.get('elapsed_seconds', '?')}s")

    def _text(self, line: str) -> None:
        if (plan := _PLAN.search(line)) is not None:
            self.total = sum(int(count) for count in plan.groups())
        elif (complete := _COMPLETE.match(line)) is not None:
            what = complete.group("what")
            self._finished(complete.group("address"), _VERBS[what], complete.group("after"))

    def _finished(self, address: str, action: str, after: str) -> None:
        self.done += 1
        of = f"/{self.total}" if self.total is not None else ""
        self.echo(f"terraform {self.phase}: {self.done}{of} {action} {address} ({after})")
