"""Driver for queue-fed patterns: send the scenario's messages to a queue of the stack, let the
stack settle (its event-source mappings run until idle), observe; then the operator actions the
scenario lists (direct invocations, each followed by a settle), and observe again.

Scenario input:
    {"messages": [{"body": ..., "attributes": {"name": "value"}, "group": "g", "dedup": "d"}],
     "afterwards": [{"invoke": "<function_names key>", "payload": {...}}]}
A `body` that is not a string is sent as JSON; `group`/`dedup` are the FIFO message group and
deduplication ids; `afterwards` is optional. The queue is metadata `catalog.driver.queue` (a
`queue_urls` key), or the input's `"queue"`.

Outputs used: `queue_urls`, plus what `stack.StackRun` reads. Faults are injected on the embedded
AWS only. The report's steps, tables and link keys come from metadata `catalog.report`; a
`requests` step counts the messages sent and the invocations made.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult
from .observe import identifiers
from .stack import StackRun, error_type, seed_identifiers


class QueueRun(StackRun):
    """A StackRun whose input is messages sent to one of the stack's queues."""

    def queue_url(self, scenario_input: Mapping[str, Any]) -> str:
        key = scenario_input.get("queue") or self.ctx.driver_settings.get("queue")
        urls = dict(self.outputs.get("queue_urls") or {})
        if not key or key not in urls:
            raise DriverError(
                f"the queue to send to ({key!r}) is not a queue_urls key: {sorted(urls)}"
            )
        return str(urls[key])

    def send(self, url: str, message: Mapping[str, Any]) -> dict[str, Any]:
        body = message.get("body")
        request: dict[str, Any] = {
            "QueueUrl": url,
            "MessageBody": body if isinstance(body, str) else json.dumps(body),
        }
        if message.get("attributes"):
            request["MessageAttributes"] = {
                str(k): {"DataType": "String", "StringValue": str(v)}
                for k, v in message["attributes"].items()
            }
        if message.get("group"):
            request["MessageGroupId"] = str(message["group"])
        if message.get("dedup"):
            request["MessageDeduplicationId"] = str(message["dedup"])
        answer = self.client("sqs").send_message(**request)
        return {"message_id": answer["MessageId"], "body": body}


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    started = time.perf_counter()
    spec = scenario.input
    if not isinstance(spec, Mapping) or not isinstance(spec.get("messages"), list):
        raise DriverError("input must be {'messages': [{'body': ...}, ...], 'afterwards': [...]}")
    actions = spec.get("afterwards") or []
    if not isinstance(actions, list) or not all(
        isinstance(a, Mapping) and isinstance(a.get("invoke"), str) for a in actions
    ):
        raise DriverError("afterwards must be a list of {'invoke': <function>, 'payload': ...}")
    run = QueueRun(ctx)
    url = run.queue_url(spec)
    faults = ctx.apply_faults(scenario)
    failure_urls = run.failure_queue_urls()
    depths_before = run.queue_depths()
    sent = [run.send(url, m) for m in spec["messages"]]
    run.settle()
    invoked = []
    for action in actions:
        invoked.append(run.invoke(str(action["invoke"]), action.get("payload") or {}))
        run.settle()
    depths_after = run.queue_depths()
    parked = {name: depths_after.get(name, 0) - depths_before.get(name, 0) for name in failure_urls}
    failed = [error_type(i["result"]) for i in invoked if not i["ok"]]
    status, error = run.outcome(failed, parked)
    seeds = seed_identifiers(scenario) | identifiers(sent) | identifiers(invoked)
    return ScenarioResult(
        scenario=scenario.name,
        status=status,
        error=error,
        steps=run.steps(ctx.report, len(sent) + len(invoked), not failed),
        tables=run.report_rows(seeds),
        details={"sent": sent, "invoked": invoked, **run.details(faults, failure_urls, parked)},
        duration_s=time.perf_counter() - started,
    )
