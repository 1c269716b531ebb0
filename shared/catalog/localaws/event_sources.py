"""Lambda event-source mappings of the embedded AWS: the pollers Lambda runs for DynamoDB Streams
and SQS, driven by one call, `settle()`, that runs every enabled mapping until the stack is idle.

moto would fire mappings inline, inside the write or the SendMessage that produced the record
(for streams: per item, before a transaction commits). The shims detach those inline triggers
(`shims._install_event_source_mappings_detached`), so delivery happens here only, as on AWS:
- the mappings are the deployed ones (ListEventSourceMappings), read again every round, so a
  mapping created, updated or disabled through the API takes effect like on AWS; a disabled
  mapping (State "Disabled") is not polled, and its stream position is kept;
- records reach the function through the Lambda API (`Invoke`), so the in-process invoker, its
  fault injection and its invocation log see every delivery;
- delivery is at least once: a failed batch is delivered again, records that succeeded with it
  included (unless the function reports a partial batch response);
- time is compressed: nothing runs between two `settle()` calls, a batching window never delays a
  batch (a batch holds up to BatchSize of what has arrived), and a failed SQS message is visible
  again at once instead of after its visibility timeout.

The per-source semantics are documented in `streams.py` and `queues.py`. State (stream positions,
activity) lives on this object, one per `LocalAws`, never in module globals.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

SETTLE_TIMEOUT_S = 120.0
# A mapping whose retries never end (MaximumRetryAttempts -1, a queue without a DLQ) would keep a
# settle busy for as long as AWS keeps the records (24 h to 14 days); settle gives up instead.
MAX_DELIVERIES_PER_BATCH = 200

ClientFactory = Callable[[str], Any]


class SettleError(RuntimeError):
    """The event sources did not become idle (a batch that can never succeed, or the timeout)."""


@dataclass
class MappingActivity:
    """What one mapping did during one `settle()`."""

    uuid: str
    function_arn: str
    source_arn: str
    source: str  # "dynamodb" | "sqs"
    invocations: int = 0
    failed_invocations: int = 0  # function errors and partial batch failures
    records: int = 0  # records or messages handed to the function, repeats included
    filtered_out: int = 0  # records the filter criteria dropped
    discarded: list[dict[str, Any]] = field(default_factory=list)  # on-failure records sent
    eventbridge_events: set[str] = field(default_factory=set)  # ids of EventBridge envelopes seen
    seconds: float = 0.0


@dataclass
class Settled:
    """The outcome of one `settle()`: rounds run, seconds, and activity per mapping UUID."""

    rounds: int = 0
    seconds: float = 0.0
    activity: dict[str, MappingActivity] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOutcome:
    """The answer of one invocation: a function error type, or the identifiers the function
    reported as failed (partial batch response), or neither (the whole batch succeeded)."""

    error: str | None = None
    failed: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


class Poller(Protocol):
    def poll(self, mapping: dict[str, Any], activity: MappingActivity) -> bool:
        """Deliver what is available once; True when something was read."""
        ...


def invoke_batch(
    lambda_client: Any,
    function_arn: str,
    event: dict[str, Any],
    identifiers: list[str],
    partial: bool,
    activity: MappingActivity,
) -> BatchOutcome:
    """Invoke synchronously, as a poller does, and read the answer as Lambda reads it: with
    ReportBatchItemFailures, `batchItemFailures` names the failed items; an empty or null list is
    success; an empty or unknown `itemIdentifier` fails the whole batch."""
    activity.invocations += 1
    activity.records += len(identifiers)
    answer = lambda_client.invoke(
        FunctionName=function_arn, Payload=json.dumps(event, default=_json_default).encode()
    )
    payload = answer["Payload"].read().decode()
    if answer.get("FunctionError"):
        activity.failed_invocations += 1
        return BatchOutcome(error=_error_type(payload))
    if not partial:
        return BatchOutcome()
    result = _json_or_text(payload)
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return BatchOutcome()
    reported = [str(f.get("itemIdentifier") or "") if isinstance(f, dict) else "" for f in failures]
    activity.failed_invocations += 1
    if "" in reported or not set(reported) <= set(identifiers):
        return BatchOutcome(error="InvalidBatchItemFailures")
    return BatchOutcome(failed=frozenset(reported))


class EventSources:
    """Every event-source mapping of the embedded AWS, polled by `settle()`.

    One instance per LocalAws (`aws.event_sources`); it keeps each mapping's poller (with its
    stream positions) between settles. `reset()` forgets them (the account was emptied).
    """

    def __init__(self, client: ClientFactory) -> None:
        self._client = client
        self._clients: dict[str, Any] = {}
        self._pollers: dict[str, Poller] = {}
        self._lock = threading.RLock()  # one settle at a time: pollers are not thread-safe

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    def reset(self) -> None:
        with self._lock:
            self._pollers.clear()
            self._clients.clear()

    def mappings(self) -> list[dict[str, Any]]:
        """The deployed mappings (every function, every source), as ListEventSourceMappings
        returns them."""
        pages = self.client("lambda").get_paginator("list_event_source_mappings").paginate()
        return [m for page in pages for m in page["EventSourceMappings"]]

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> Settled:
        """Poll every enabled mapping, round after round, until a whole round reads nothing."""
        started = time.perf_counter()
        settled = Settled()
        with self._lock:
            while True:
                settled.rounds += 1
                busy = False
                for mapping in self.mappings():
                    if mapping.get("State", "Enabled") != "Enabled":
                        continue
                    activity = settled.activity.get(mapping["UUID"]) or _activity(mapping)
                    settled.activity[mapping["UUID"]] = activity
                    begun = time.perf_counter()
                    busy |= self._poller(mapping).poll(mapping, activity)
                    activity.seconds += time.perf_counter() - begun
                if not busy:
                    break
                if time.perf_counter() - started > timeout:
                    raise SettleError(f"event sources still busy after {timeout:.0f} s")
        settled.seconds = time.perf_counter() - started
        return settled

    def _poller(self, mapping: dict[str, Any]) -> Poller:
        poller = self._pollers.get(mapping["UUID"])
        if poller is None:
            from .queues import QueuePoller
            from .streams import StreamPoller

            service = mapping["EventSourceArn"].split(":")[2]
            if service == "dynamodb":
                poller = StreamPoller(self.client)
            elif service == "sqs":
                poller = QueuePoller(self.client)
            else:
                raise SettleError(f"event source {mapping['EventSourceArn']} is not emulated")
            self._pollers[mapping["UUID"]] = poller
        return poller


def _activity(mapping: dict[str, Any]) -> MappingActivity:
    return MappingActivity(
        uuid=mapping["UUID"],
        function_arn=mapping["FunctionArn"],
        source_arn=mapping["EventSourceArn"],
        source=mapping["EventSourceArn"].split(":")[2],
    )


def _json_default(value: Any) -> Any:
    import base64
    from datetime import datetime

    # Binary attribute values (B/BS) travel base64-encoded in Lambda events.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _error_type(payload: str) -> str:
    body = _json_or_text(payload)
    if isinstance(body, dict) and body.get("errorType"):
        return str(body["errorType"])
    return "Unhandled"


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
