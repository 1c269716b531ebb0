"""The part every event-driven driver shares: a run against a deployed stack that sends input,
lets the stack settle, and observes its queues, tables and event sources.

Settling: on the embedded AWS (ctx.aws set), `LocalAws.settle()` runs every event-source mapping
until the stack is idle (the emulation lives there, not here). On real AWS the run waits until
the stack's queues are drained and its tables stop changing.

Outputs used: `function_names` (short name -> deployed name), `queue_urls`, `table_names`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from .base import DriverContext, DriverError, ReportSpec, StepRecord
from .observe import Rows, identifiers, json_or_text, related_rows, rows_by_key, table_rows

REMOTE_QUIET_S = 5.0
REMOTE_POLL_S = 0.5
SETTLE_TIMEOUT_S = 120.0
DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass
class FunctionActivity:
    """What the event sources did for one function during a run (embedded AWS only)."""

    function: str  # short name
    source: str  # "stream" | "queue"
    invocations: int = 0
    failed_invocations: int = 0
    records: int = 0
    discarded: list[dict[str, Any]] = field(default_factory=list)
    eventbridge_events: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "invocations": self.invocations,
            "failed_invocations": self.failed_invocations,
            "records": self.records,
            "discarded": self.discarded,
        }


class StackRun:
    """One driver run against a deployed stack; usable piecewise (tests send concurrently)."""

    def __init__(self, ctx: DriverContext) -> None:
        self.ctx = ctx
        self.outputs = ctx.outputs
        self.local = ctx.aws is not None
        self.function_names: dict[str, str] = dict(self.outputs.get("function_names") or {})
        self._short = {v: k for k, v in self.function_names.items()}
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.activity: dict[str, FunctionActivity] = {}

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self.ctx.client(service)
            return self._clients[service]

    def short_name(self, function: str) -> str:
        name = function.split(":")[6] if function.startswith("arn:") else function
        return self._short.get(name, name)

    def invoke(self, function: str, payload: Any) -> dict[str, Any]:
        """A direct, synchronous invocation of a stack function (by its function_names key)."""
        name = self.function_names.get(function)
        if name is None:
            known = sorted(self.function_names)
            raise DriverError(f"{function!r} is not a function_names key: {known}")
        answer = self.client("lambda").invoke(
            FunctionName=name, Payload=json.dumps(payload).encode()
        )
        result = json_or_text(answer["Payload"].read().decode() or "null")
        return {"function": function, "ok": not answer.get("FunctionError"), "result": result}

    # ------------------------------------------------------------ settling
    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> float:
        """Run the stack's asynchronous part until nothing is left to do; returns seconds."""
        started = time.perf_counter()
        if self.ctx.aws is not None:
            settled = self.ctx.aws.settle(timeout)  # every stack's mappings run, as on AWS
            for activity in settled.activity.values():
                short = self.short_name(activity.function_arn)
                if short not in self.function_names:
                    continue  # another stack's function
                source = "stream" if activity.source == "dynamodb" else "queue"
                mine = self.activity.setdefault(short, FunctionActivity(short, source))
                mine.invocations += activity.invocations
                mine.failed_invocations += activity.failed_invocations
                mine.records += activity.records
                mine.discarded += activity.discarded
                mine.eventbridge_events |= activity.eventbridge_events
        else:
            self._wait_until_quiet(started + timeout)
        return time.perf_counter() - started

    def _wait_until_quiet(self, deadline: float) -> None:
        last: Any = None
        quiet_since: float | None = None
        while time.perf_counter() < deadline:
            snapshot = (
                sum(self.queue_depths().values()),
                tuple(sorted(self.table_counts().items())),
            )
            if snapshot[0] == 0 and snapshot == last:
                quiet_since = quiet_since or time.perf_counter()
                if time.perf_counter() - quiet_since >= REMOTE_QUIET_S:
                    return
            else:
                quiet_since = None
            last = snapshot
            time.sleep(REMOTE_POLL_S)
        raise DriverError("the stack did not settle in time")

    # ------------------------------------------------------------ observation
    def failure_queue_urls(self) -> dict[str, str]:
        """Short name -> URL of the queues that hold failures: DLQs (redrive targets) and the
        on-failure destinations of the stack's event-source mappings."""
        queue_urls: dict[str, str] = dict(self.outputs.get("queue_urls") or {})
        sqs = self.client("sqs")
        arn_of = {
            name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            for name, url in queue_urls.items()
        }
        failure_arns = set()
        for url in queue_urls.values():
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            # AWS leaves "Attributes" out when none of the asked ones is set.
            redrive = attributes.get("Attributes", {}).get("RedrivePolicy")
            if redrive:
                failure_arns.add(json.loads(redrive)["deadLetterTargetArn"])
        for mapping in self.mappings():
            destination = (mapping.get("DestinationConfig") or {}).get("OnFailure") or {}
            if destination.get("Destination"):
                failure_arns.add(destination["Destination"])
        return {name: queue_urls[name] for name, arn in arn_of.items() if arn in failure_arns}

    def mappings(self) -> list[dict[str, Any]]:
        """The event-source mappings of the stack's functions (listed, then filtered by ARN:
        the emulator cannot list by function name)."""
        lambda_ = self.client("lambda")
        arns = set()
        for name in self.function_names.values():
            with suppress(Exception):
                arns.add(lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
        pages = lambda_.get_paginator("list_event_source_mappings").paginate()
        return [
            m for page in pages for m in page["EventSourceMappings"] if m["FunctionArn"] in arns
        ]

    def queue_depths(self) -> dict[str, int]:
        sqs = self.client("sqs")
        depths = {}
        for name, url in (self.outputs.get("queue_urls") or {}).items():
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)
            depths[name] = sum(int(v) for v in attributes["Attributes"].values())
        return depths

    def peek(self, url: str, limit: int = 50) -> list[Any]:
        """Message bodies of a queue, left in place: received with a visibility timeout (so each
        receive returns new ones), then made visible again."""
        sqs = self.client("sqs")
        seen: dict[str, Any] = {}
        handles: list[str] = []
        try:
            while len(seen) < limit:
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    handles.append(message["ReceiptHandle"])
                    seen.setdefault(message["MessageId"], json_or_text(message["Body"]))
        finally:
            for handle in handles:
                with suppress(Exception):
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
                    )
        return list(seen.values())[:limit]

    def table_counts(self) -> dict[str, int]:
        dynamodb = self.client("dynamodb")
        counts = {}
        for name, table in (self.outputs.get("table_names") or {}).items():
            pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
            counts[name] = sum(page["Count"] for page in pages)
        return counts

    def table_rows(self) -> Rows:
        return table_rows(self.ctx)

    def rows_by_key(self, logical: str, key: str, values: Iterable[str]) -> list[dict[str, Any]]:
        return rows_by_key(self.ctx, logical, key, values)

    def report_rows(self, seeds: set[str]) -> Rows:
        """The rows of this run in the tables the report shows."""
        report = self.ctx.report
        return related_rows(table_rows(self.ctx, report.tables), seeds, report.link_keys)

    # ------------------------------------------------------------ the report
    def steps(
        self, report: ReportSpec, request_attempts: int, requests_ok: bool
    ) -> list[StepRecord]:
        """The report's steps (metadata `catalog.report.steps`, as listed there); a step that did
        not happen is left out. Without steps: the requests, then every active function."""
        if not report.steps:
            records = [StepRecord("requests", "request", request_attempts, requests_ok)]
            return records + [
                StepRecord(a.function, "function", a.invocations, not a.discarded)
                for a in self.activity.values()
                if a.invocations
            ]
        records = []
        for step in report.steps:
            activity = self.activity.get(step.function or "")
            if step.observe == "requests":
                records.append(StepRecord(step.name, "request", request_attempts, requests_ok))
            elif step.observe == "function" and activity and activity.invocations:
                ok = not activity.discarded
                records.append(StepRecord(step.name, "function", activity.invocations, ok))
            elif step.observe == "eventbridge" and activity and activity.eventbridge_events:
                events = len(activity.eventbridge_events)
                records.append(StepRecord(step.name, "delivery", events, True))
        return records

    def outcome(self, failed_requests: list[str], parked: dict[str, int]) -> tuple[str, str | None]:
        """FAILED with the last failed request's error, else with the condition of a discarded
        batch, else when a failure queue received messages; otherwise SUCCEEDED."""
        discarded = [d for a in self.activity.values() for d in a.discarded]
        if failed_requests:
            return "FAILED", failed_requests[-1]
        if discarded:
            return "FAILED", str(discarded[0]["requestContext"]["condition"])
        if any(n > 0 for n in parked.values()):
            return "FAILED", "MovedToDeadLetterQueue"
        return "SUCCEEDED", None

    def details(
        self, faults: list[dict[str, Any]], failure_urls: dict[str, str], parked: dict[str, int]
    ) -> dict[str, Any]:
        return {
            "mode": "local" if self.local else "aws",
            "pollers": {name: a.as_dict() for name, a in self.activity.items()},
            "failure_queues": {
                name: {"new_messages": parked[name], "messages": self.peek(url)}
                for name, url in failure_urls.items()
            },
            "queue_depths": self.queue_depths(),
            "table_counts": self.table_counts(),
            "faults": faults if self.local else [],
            "faults_not_injected": [] if self.local else faults,
        }


def error_type(result: Any) -> str:
    """The `errorType` of a Lambda function error payload."""
    return str(result.get("errorType")) if isinstance(result, dict) else "Unhandled"


def seed_identifiers(scenario: Any) -> set[str]:
    """Identifiers of a scenario's seed rows: they belong to the run."""
    return identifiers(scenario.seed)
