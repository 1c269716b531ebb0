"""Driver for HTTP API patterns: send the scenario's requests, then let the asynchronous part of
the stack (stream and queue event source mappings) run until it settles.

Scenario input: one request `{"method", "path", "headers", "body"}` or `{"requests": [...]}`.
A `body` that is not a string is sent as JSON. `"retry": {"attempts": 3, "on": [500, 503]}` on a
request makes the client retry it (same headers and body) on those statuses.

Outputs used: `api_endpoint`, `function_names` (short name -> deployed name), `table_names` and
`queue_urls`. The routes and integrations are read from the deployed API; the event source mappings
from the deployed functions.

On the embedded AWS (ctx.aws set) the driver is the Lambda service's poller:
- HTTP: moto's API Gateway v2 stores APIs but does not proxy HTTP requests to Lambda. The driver
  builds the API Gateway v2 proxy event (payload format 2.0) for the matching route and invokes the
  integrated function through the Lambda API, then maps the result as API Gateway does.
- DynamoDB streams: the emulator fires stream mappings per item, inside the write and before a
  transaction commits; real DynamoDB delivers committed records only, asynchronously. The driver
  turns the emulator's own pollers off (Enabled=False) and reads committed records through the
  DynamoDB Streams API (GetShardIterator/GetRecords), applying the mapping's settings as Lambda does:
  filter criteria, batch size, partial batch responses, bisect on function error, maximum retry
  attempts and record age, and the on-failure destination (the AWS record format).
- SQS: batches are received and the function invoked with the SQS event; successes (all but the
  reported failures) are deleted. A failed message is made visible again at once (time is
  compressed: AWS waits for the visibility timeout); the queue's redrive policy moves it to its DLQ.
Faults are injected through `ctx.aws.faults`.

On real AWS the requests go to the API endpoint over HTTPS and the driver waits until the queues
are drained and the tables stop changing; faults are not injected (the result says so).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeDeserializer

from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult, StepRecord

SETTLE_TIMEOUT_S = 120.0
MAX_SETTLE_ROUNDS = 10_000
REMOTE_QUIET_S = 5.0
POLL_S = 0.5
# Guards a mapping with infinite retries (-1) against a function that never succeeds.
MAX_INVOCATIONS_PER_BATCH = 200

_deserializer = TypeDeserializer()


# ================================================================ results of one run


@dataclass
class HttpExchange:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any
    attempts: int
    latency_s: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        if self.ok:
            return None
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return str(self.body["error"])
        return f"HTTP{self.status}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
            "attempts": self.attempts,
            "latency_ms": round(self.latency_s * 1000, 1),
        }


@dataclass
class PollerStats:
    """What one mapping did during a run (local mode)."""

    function: str  # short name (function_names key) or the deployed name
    source: str  # "stream" | "queue"
    invocations: int = 0
    failed_invocations: int = 0
    records: int = 0  # records or messages handed to the function (with repeats)
    discarded: list[dict[str, Any]] = field(default_factory=list)  # on-failure destination bodies
    eventbridge_deliveries: int = 0  # queue messages that are EventBridge events
    event_ids: set[str] = field(default_factory=set)  # EventBridge event ids seen
    seconds: float = 0.0


# ================================================================ the run


class HttpApiRun:
    """One driver run against a deployed stack; usable piecewise (tests send concurrently)."""

    def __init__(self, ctx: DriverContext) -> None:
        self.ctx = ctx
        self.outputs = ctx.outputs
        self.local = ctx.aws is not None
        self.function_names: dict[str, str] = dict(self.outputs.get("function_names") or {})
        self._short = {v: k for k, v in self.function_names.items()}
        self._lambda = ctx.client("lambda")
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._routes: list[_Route] | None = None
        self._mappings: list[dict[str, Any]] | None = None
        self.stats: dict[str, PollerStats] = {}

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self.ctx.client(service)
            return self._clients[service]

    def short_name(self, function: str) -> str:
        name = function.rsplit(":", 1)[-1] if function.startswith("arn:") else function
        return self._short.get(name, name)

    # ------------------------------------------------------------ faults
    def apply_faults(self, scenario: Scenario) -> list[dict[str, Any]]:
        faults = [
            {"function": f.function, "error": f.error, "when": f.when, "times": f.times}
            for f in scenario.faults
        ]
        if self.ctx.aws is None:
            return faults
        for fault in scenario.faults:
            # Scenarios name functions by short name; inject on the deployed one only.
            self.ctx.aws.faults.add(
                self.function_names.get(fault.function, fault.function),
                fault.error,
                when=fault.when,
                times=fault.times,
                message=fault.message,
            )
        return faults

    # ------------------------------------------------------------ HTTP
    def send(self, request: Mapping[str, Any]) -> HttpExchange:
        method = str(request.get("method", "POST")).upper()
        path = str(request.get("path", "/"))
        headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
        body = request.get("body")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        retry = request.get("retry") or {}
        attempts_allowed = max(1, int(retry.get("attempts", 1)))
        retry_on = {int(s) for s in retry.get("on", [500, 502, 503, 504])}
        started = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            if self.local:
                status, out_headers, out_body = self._invoke_route(method, path, headers, body)
            else:
                status, out_headers, out_body = self._https(method, path, headers, body)
            if status not in retry_on or attempts >= attempts_allowed:
                break
        return HttpExchange(
            method,
            path,
            status,
            out_headers,
            _json_or_text(out_body),
            attempts,
            time.perf_counter() - started,
        )

    def _https(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        endpoint = str(self.outputs.get("api_endpoint") or "").rstrip("/")
        if not endpoint:
            raise DriverError("outputs have no api_endpoint")
        route = _match_route(self.routes(), method, path)
        if route is not None and route.authorization == "AWS_IAM":
            headers = self._sigv4(method, endpoint + path, headers, body)
        request = urllib.request.Request(
            endpoint + path,
            data=body.encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers or {}), exc.read().decode()

    def _sigv4(
        self, method: str, url: str, headers: dict[str, str], body: str | None
    ) -> dict[str, str]:
        """Sign a request to an AWS_IAM route with the caller's credentials (execute-api)."""
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = self.ctx.session or boto3.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise DriverError("the API route needs IAM authorization: no AWS credentials found")
        region = (urlsplit(url).hostname or "").split(".")[2]
        request = AWSRequest(method=method, url=url, data=body or "", headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    def routes(self) -> list[_Route]:
        if self._routes is None:
            self._routes = _read_routes(self.client("apigatewayv2"), self.outputs)
        return self._routes

    def _invoke_route(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        route = _match_route(self.routes(), method, path)
        if route is None:
            return 404, {"content-type": "application/json"}, '{"message":"Not Found"}'
        event = _proxy_event_v2(route, method, path, headers, body)
        answer = self.client("lambda").invoke(
            FunctionName=route.function_arn, Payload=json.dumps(event).encode()
        )
        payload = answer["Payload"].read().decode()
        if answer.get("FunctionError"):
            # What API Gateway answers when the integration's function fails.
            return 500, {"content-type": "application/json"}, '{"message":"Internal Server Error"}'
        return _map_v2_response(payload)

    # ------------------------------------------------------------ event source mappings
    def mappings(self) -> list[dict[str, Any]]:
        """Every event source mapping of the stack's functions (listed, then filtered by ARN:
        the emulator cannot list by function name)."""
        if self._mappings is None:
            arns = set()
            for name in self.function_names.values():
                with suppress(Exception):
                    arns.add(
                        self._lambda.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
                    )
            found = []
            for page in self._lambda.get_paginator("list_event_source_mappings").paginate():
                found += [m for m in page["EventSourceMappings"] if m["FunctionArn"] in arns]
            self._mappings = found
        return self._mappings

    def pause_emulator_pollers(self) -> None:
        """Local only: the driver polls; the emulator's own triggers must not run."""
        if not self.local:
            return
        for mapping in self.mappings():
            if mapping.get("State") != "Disabled":
                self._lambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
                mapping["State"] = "Disabled"

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> float:
        """Run the stack's asynchronous part until nothing is left to do; returns seconds."""
        started = time.perf_counter()
        if self.local:
            self._settle_local(started + timeout)
        else:
            self._settle_remote(started + timeout)
        return time.perf_counter() - started

    def _settle_local(self, deadline: float) -> None:
        self.pause_emulator_pollers()
        pollers: list[_StreamPoller | _QueuePoller] = []
        for mapping in self.mappings():
            service = mapping["EventSourceArn"].split(":")[2]
            if service == "dynamodb":
                pollers.append(_StreamPoller(self, mapping))
            elif service == "sqs":
                pollers.append(_QueuePoller(self, mapping))
            else:
                raise DriverError(f"event source {mapping['EventSourceArn']} is not emulated")
        for _ in range(MAX_SETTLE_ROUNDS):
            progressed = False
            for poller in pollers:
                progressed = poller.poll() or progressed
            if not progressed:
                return
            if time.perf_counter() > deadline:
                raise DriverError("the stack did not settle in time (a poller keeps finding work)")
        raise DriverError("the stack did not settle (too many rounds)")

    def _settle_remote(self, deadline: float) -> None:
        # AWS runs the pollers; settled = every queue drained and no table changing for a while.
        sqs = self.client("sqs")
        failure_queues = set(self.failure_queue_urls())
        quiet_since: float | None = None
        last: tuple[Any, ...] | None = None
        while time.perf_counter() < deadline:
            busy = 0
            for url in (self.outputs.get("queue_urls") or {}).values():
                if url in failure_queues:
                    continue
                attrs = sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
                busy += sum(int(v) for v in attrs.values())
            snapshot = (busy, tuple(sorted(self.table_counts().items())))
            if busy == 0 and snapshot == last:
                quiet_since = quiet_since or time.perf_counter()
                if time.perf_counter() - quiet_since >= REMOTE_QUIET_S:
                    return
            else:
                quiet_since = None
            last = snapshot
            time.sleep(POLL_S)
        raise DriverError("the stack did not settle in time")

    # ------------------------------------------------------------ observation
    def failure_queue_urls(self) -> dict[str, str]:
        """Short name -> URL of the queues that hold failures: DLQs (redrive targets) and
        on-failure destinations of the mappings."""
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
            target = (
                (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
            )
            if target:
                failure_arns.add(target)
        return {name: queue_urls[name] for name, arn in arn_of.items() if arn in failure_arns}

    def queue_depths(self) -> dict[str, int]:
        sqs = self.client("sqs")
        depths = {}
        for name, url in (self.outputs.get("queue_urls") or {}).items():
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            depths[name] = sum(int(v) for v in attrs.values())
        return depths

    def peek(self, url: str, limit: int = 50) -> list[Any]:
        """Message bodies of a queue, left in place: received with a visibility timeout (so each
        receive returns new ones), then made visible again."""
        sqs = self.client("sqs")
        seen: dict[str, Any] = {}
        handles: list[str] = []
        try:
            while len(seen) < limit:
                answer = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
                )
                messages = answer.get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    handles.append(message["ReceiptHandle"])
                    seen.setdefault(message["MessageId"], _json_or_text(message["Body"]))
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
            total = 0
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
                total += page["Count"]
            counts[name] = total
        return counts

    def table_rows(self, needles: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Rows of each table; with `needles`, only rows that mention one of them."""
        wanted = set(needles or ())
        dynamodb = self.client("dynamodb")
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, table in sorted((self.outputs.get("table_names") or {}).items()):
            rows = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    row = _plain({k: _deserializer.deserialize(v) for k, v in item.items()})
                    if needles is None or any(n in s for s in _strings(row) for n in wanted):
                        rows.append(row)
            tables[name] = rows
        return tables


# ================================================================ run_scenario


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    started = time.perf_counter()
    run = HttpApiRun(ctx)
    run.pause_emulator_pollers()
    faults = run.apply_faults(scenario)
    failure_urls = run.failure_queue_urls()
    depths_before = run.queue_depths()
    exchanges = [run.send(request) for request in requests_of(scenario.input)]
    api_done = time.perf_counter()
    settle_s = run.settle()
    depths_after = run.queue_depths()

    parked = {name: depths_after.get(name, 0) - depths_before.get(name, 0) for name in failure_urls}
    discarded = [d for s in run.stats.values() for d in s.discarded]
    status, error = "SUCCEEDED", None
    failed_http = [e for e in exchanges if not e.ok]
    if failed_http:
        status, error = "FAILED", failed_http[-1].error
    elif discarded:
        status, error = "FAILED", str(discarded[0]["requestContext"]["condition"])
    elif any(n > 0 for n in parked.values()):
        status, error = "FAILED", "MovedToDeadLetterQueue"

    return ScenarioResult(
        scenario=scenario.name,
        status=status,
        error=error,
        steps=_steps(run, exchanges),
        tables=run.table_rows(_needles(scenario, exchanges)),
        details={
            "mode": "local" if run.local else "aws",
            "http": [e.as_dict() for e in exchanges],
            "pollers": {
                name: {
                    "source": s.source,
                    "invocations": s.invocations,
                    "failed_invocations": s.failed_invocations,
                    "records": s.records,
                    "discarded": s.discarded,
                }
                for name, s in run.stats.items()
            },
            "failure_queues": {
                name: {"new_messages": parked[name], "messages": run.peek(url)}
                for name, url in failure_urls.items()
            },
            "queue_depths": depths_after,
            "table_counts": run.table_counts(),
            "faults": faults if run.local else [],
            "faults_not_injected": [] if run.local else faults,
            "latency_ms": {
                "api": round((api_done - started) * 1000, 1),
                "settle": round(settle_s * 1000, 1),
            },
        },
        duration_s=time.perf_counter() - started,
    )


def _needles(scenario: Scenario, exchanges: list[HttpExchange]) -> set[str]:
    """Identifiers of this run, to pick its rows: request headers (idempotency keys), top-level
    request fields named *id, everything the responses returned, and the seed rows. Only
    identifier-like strings count, so "EUR" or "CREATED" never select every row."""
    found: set[str] = set(_strings(scenario.seed))
    for request in requests_of(scenario.input):
        found |= set(_strings(request.get("headers") or {}))
        body = _json_or_text(request.get("body"))
        if isinstance(body, Mapping):
            found |= {v for k, v in body.items() if isinstance(v, str) and k.lower().endswith("id")}
    for exchange in exchanges:
        found |= set(_strings(exchange.body))
    return {n for n in found if _identifier_like(n)}


def _identifier_like(value: str) -> bool:
    return (
        len(value) >= 6
        and not any(c.isspace() for c in value)
        and any(c.isdigit() or c in "-_#:" for c in value)
    )


def requests_of(scenario_input: Any) -> list[Mapping[str, Any]]:
    if isinstance(scenario_input, Mapping) and "requests" in scenario_input:
        requests = scenario_input["requests"]
    else:
        requests = [scenario_input]
    if not isinstance(requests, list) or not all(isinstance(r, Mapping) for r in requests):
        raise DriverError("input must be a request object or {'requests': [request, ...]}")
    return requests


def _steps(run: HttpApiRun, exchanges: list[HttpExchange]) -> list[StepRecord]:
    steps = [
        StepRecord(
            "api",
            "api",
            attempts=sum(e.attempts for e in exchanges),
            ok=all(e.ok for e in exchanges),
        )
    ]
    for name, stats in run.stats.items():
        if stats.source == "queue" and stats.eventbridge_deliveries:
            # The bus is observed where it delivers: EventBridge events arriving on the queue.
            steps.append(StepRecord("bus", "bus", attempts=stats.eventbridge_deliveries, ok=True))
        if stats.invocations:
            kind = "relay" if stats.source == "stream" else "consumer"
            steps.append(StepRecord(name, kind, attempts=stats.invocations, ok=not stats.discarded))
    order = {"api": 0, "relay": 1, "bus": 2, "consumer": 3}
    return sorted(steps, key=lambda s: order.get(s.kind, 9))


# ================================================================ HTTP API emulation


@dataclass(frozen=True)
class _Route:
    api_id: str
    route_key: str  # "POST /orders", "ANY /{proxy+}", "$default"
    function_arn: str
    domain: str
    authorization: str = "NONE"  # NONE | AWS_IAM | JWT | CUSTOM


def _read_routes(apigw: Any, outputs: Mapping[str, Any]) -> list[_Route]:
    endpoint = str(outputs.get("api_endpoint") or "")
    if not endpoint:
        raise DriverError("outputs have no api_endpoint")
    domain = urlsplit(endpoint).hostname or endpoint
    api_id = domain.split(".")[0]
    integrations = {
        i["IntegrationId"]: i for i in apigw.get_integrations(ApiId=api_id).get("Items", [])
    }
    routes = []
    for route in apigw.get_routes(ApiId=api_id).get("Items", []):
        target = str(route.get("Target") or "")
        integration = integrations.get(target.removeprefix("integrations/"))
        if not integration or integration.get("IntegrationType") != "AWS_PROXY":
            continue
        if integration.get("PayloadFormatVersion", "1.0") != "2.0":
            raise DriverError(f"route {route['RouteKey']}: only payload format 2.0 is emulated")
        routes.append(
            _Route(
                api_id,
                route["RouteKey"],
                _function_arn(integration["IntegrationUri"]),
                domain,
                str(route.get("AuthorizationType") or "NONE"),
            )
        )
    return routes


def _function_arn(uri: str) -> str:
    # An invoke ARN (arn:aws:apigateway:...:lambda:path/2015-03-31/functions/<arn>/invocations)
    # or the function ARN itself.
    if "/functions/" in uri:
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")
    return uri


def _match_route(routes: list[_Route], method: str, path: str) -> _Route | None:
    def matches(key: str) -> bool:
        route_method, _, route_path = key.partition(" ")
        if route_method not in (method, "ANY"):
            return False
        want, got = route_path.strip("/").split("/"), path.split("?")[0].strip("/").split("/")
        for index, part in enumerate(want):
            if part.endswith("+}"):
                return len(got) > index
            if index >= len(got) or (part != got[index] and not part.startswith("{")):
                return False
        return len(want) == len(got)

    exact = [r for r in routes if r.route_key != "$default" and matches(r.route_key)]
    # API Gateway prefers the most specific route: fewer parameters first.
    exact.sort(key=lambda r: r.route_key.count("{"))
    if exact:
        return exact[0]
    return next((r for r in routes if r.route_key == "$default"), None)


def _proxy_event_v2(
    route: _Route, method: str, path: str, headers: dict[str, str], body: str | None
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration (HTTP API, payload format 2.0)."""
    raw_path, _, query = path.partition("?")
    now = datetime.now(UTC)
    lowered = {k.lower(): v for k, v in headers.items()}  # HTTP APIs lower-case header names
    lowered.setdefault("host", route.domain)
    lowered.setdefault("user-agent", "catalog-driver")
    lowered.setdefault("x-forwarded-proto", "https")
    if body is not None:
        lowered["content-length"] = str(len(body.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": route.function_arn.split(":")[4],
            "apiId": route.api_id,
            "domainName": route.domain,
            "domainPrefix": route.api_id,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered["user-agent"],
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            **_authorizer(route),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        params: dict[str, str] = {}
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    path_parameters = _path_parameters(route.route_key, raw_path)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    return event


def _authorizer(route: _Route) -> dict[str, Any]:
    """What an AWS_IAM route adds to the request context: the (emulated) signing caller."""
    if route.authorization != "AWS_IAM":
        return {}
    account = route.function_arn.split(":")[4]
    return {
        "authorizer": {
            "iam": {
                "accessKey": "AKIACATALOGDRIVER",
                "accountId": account,
                "callerId": "AIDACATALOGDRIVER",
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{account}:user/catalog-driver",
                "userId": "AIDACATALOGDRIVER",
                "cognitoIdentity": None,
            }
        }
    }


def _path_parameters(route_key: str, path: str) -> dict[str, str]:
    _, _, route_path = route_key.partition(" ")
    params = {}
    got = path.strip("/").split("/")
    for index, part in enumerate(route_path.strip("/").split("/")):
        if part.startswith("{") and index < len(got):
            name = part.strip("{}").rstrip("+")
            params[name] = "/".join(got[index:]) if part.endswith("+}") else got[index]
    return params


def _map_v2_response(payload: str) -> tuple[int, dict[str, str], str]:
    """API Gateway's reading of a payload 2.0 result: a dict with statusCode is a response;
    anything else is a 200 JSON body."""
    try:
        result = json.loads(payload) if payload else None
    except json.JSONDecodeError:
        return 502, {"content-type": "application/json"}, '{"message":"Internal Server Error"}'
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return int(result["statusCode"]), headers, body
    return 200, {"content-type": "application/json"}, json.dumps(result)


# ================================================================ stream poller (local)

# Checkpoints survive runs (module state, like the poller's own): mapping UUID + shard -> the last
# sequence number handled. A UUID belongs to one deployment, so stacks never share checkpoints.
_CHECKPOINTS: dict[tuple[str, str], str] = {}
_CHECKPOINTS_LOCK = threading.Lock()


def reset_checkpoints() -> None:
    with _CHECKPOINTS_LOCK:
        _CHECKPOINTS.clear()


class _StreamPoller:
    def __init__(self, run: HttpApiRun, mapping: dict[str, Any]) -> None:
        self.run = run
        self.mapping = mapping
        self.stream_arn: str = mapping["EventSourceArn"]
        self.function_arn: str = mapping["FunctionArn"]
        self.batch_size = int(mapping.get("BatchSize") or 100)
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        self.max_retries = int(mapping.get("MaximumRetryAttempts", -1))
        self.max_age = int(mapping.get("MaximumRecordAgeInSeconds", -1))
        self.partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.filters = [
            json.loads(f["Pattern"])
            for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])
        ]
        self.on_failure = (
            (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        )
        short = run.short_name(self.function_arn)
        self.stats = run.stats.setdefault(short, PollerStats(short, "stream"))
        self.streams = run.client("dynamodbstreams")
        self.region = self.stream_arn.split(":")[3]

    def poll(self) -> bool:
        started = time.perf_counter()
        progressed = False
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]
        for shard in shards:
            records = self._read(shard["ShardId"])
            if not records:
                continue
            progressed = True
            wanted = [r for r in records if self._matches(r)]
            for start in range(0, len(wanted), self.batch_size):
                self._deliver(shard["ShardId"], wanted[start : start + self.batch_size], 0)
            self._checkpoint(shard["ShardId"], records[-1]["dynamodb"]["SequenceNumber"])
        self.stats.seconds += time.perf_counter() - started
        return progressed

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        """Committed records after the checkpoint. A fresh iterator per poll: the emulator swaps a
        table's shard object when it rolls a transaction back, and an old iterator would still see
        the cancelled writes."""
        key = (self.mapping["UUID"], shard_id)
        with _CHECKPOINTS_LOCK:
            after = _CHECKPOINTS.get(key)
        if after is None:
            position = self.mapping.get("StartingPosition") or "TRIM_HORIZON"
            if position == "LATEST":
                # The mapping starts here: remember the current end of the shard once.
                self._checkpoint(shard_id, self._last_sequence(shard_id) or "")
                return []
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        elif after == "":
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        else:
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=after,
            )["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
        if after:
            # Sequence numbers are ordered: never hand back what was already handled.
            records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(after)]
        return records

    def _last_sequence(self, shard_id: str) -> str | None:
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        last = None
        while iterator:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator")
        return last

    def _checkpoint(self, shard_id: str, sequence: str) -> None:
        with _CHECKPOINTS_LOCK:
            _CHECKPOINTS[(self.mapping["UUID"], shard_id)] = sequence

    def _matches(self, record: dict[str, Any]) -> bool:
        if not self.filters:
            return True
        return any(
            _pattern_matches(p, _lambda_record(record, self.stream_arn)) for p in self.filters
        )

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], retries: int) -> None:
        """Invoke until the batch succeeds or is discarded, as the Lambda poller does.

        Model: a function error with bisect on splits the batch in two, each half keeping the
        retry count (splitting is not a retry); a partial batch response retries from the lowest
        failed sequence number (with bisect on, AWS bisects there, which is the same set of
        records); a batch is discarded to the on-failure destination when its retries exceed
        MaximumRetryAttempts or a record is older than MaximumRecordAgeInSeconds.
        """
        invocations = 0
        while batch:
            if self.max_age >= 0 and self._oldest_age(batch) > self.max_age:
                self._discard(shard_id, batch, "RecordAgeExceeded", invocations, None)
                return
            event = {"Records": [_lambda_record(r, self.stream_arn) for r in batch]}
            error, failed = self._invoke(event)
            invocations += 1
            if error is None and not failed:
                return
            if error is None and failed is not None:
                # Partial success: everything before the lowest failed record is done.
                sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
                lowest = min(sequences.index(s) for s in failed)
                batch = batch[lowest:]
            elif self.bisect and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(shard_id, batch[:half], retries)
                self._deliver(shard_id, batch[half:], retries)
                return
            retries += 1
            if 0 <= self.max_retries < retries:
                self._discard(shard_id, batch, "RetryAttemptsExhausted", invocations, error)
                return
            if invocations >= MAX_INVOCATIONS_PER_BATCH:
                raise DriverError(
                    f"{self.stats.function}: batch still failing after {invocations} invocations"
                )

    def _invoke(self, event: dict[str, Any]) -> tuple[str | None, set[str] | None]:
        """(function error type or None, failed sequence numbers or None)."""
        self.stats.invocations += 1
        self.stats.records += len(event["Records"])
        answer = self.run.client("lambda").invoke(
            FunctionName=self.function_arn,
            Payload=json.dumps(event, default=_json_default).encode(),
        )
        payload = answer["Payload"].read().decode()
        if answer.get("FunctionError"):
            self.stats.failed_invocations += 1
            return _error_type(payload), None
        if not self.partial:
            return None, None
        result = _json_or_text(payload)
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None, None
        sequences = {r["dynamodb"]["SequenceNumber"] for r in event["Records"]}
        ids = {str(f.get("itemIdentifier") or "") for f in failures if isinstance(f, dict)}
        if not ids or not ids <= sequences:
            # An empty or unknown itemIdentifier makes the whole batch a failure.
            self.stats.failed_invocations += 1
            return "InvalidBatchItemFailures", None
        self.stats.failed_invocations += 1
        return None, ids

    def _oldest_age(self, batch: list[dict[str, Any]]) -> float:
        created = batch[0]["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            return (datetime.now(UTC) - created.astimezone(UTC)).total_seconds()
        return 0.0

    def _discard(
        self,
        shard_id: str,
        batch: list[dict[str, Any]],
        condition: str,
        invocations: int,
        error: str | None,
    ) -> None:
        """Send the batch's position (not its records) to the on-failure destination, in the
        format Lambda uses for DynamoDB streams; without a destination the records are skipped."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if error else None,
            },
            "version": "1.0",
            "timestamp": _iso(datetime.now(UTC)),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        if record["responseContext"]["functionError"] is None:
            del record["responseContext"]["functionError"]
        self.stats.discarded.append(record)
        if self.on_failure:
            sqs = self.run.client("sqs")
            url = sqs.get_queue_url(QueueName=self.on_failure.split(":")[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A Streams API record as Lambda passes it: eventSourceARN added, time as epoch seconds."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    out = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        out["userIdentity"] = record["userIdentity"]
    return out


def _pattern_matches(pattern: Any, value: Any) -> bool:
    """Lambda/EventBridge filter matching for the forms a pattern here may use: nested objects,
    lists of literal values, and {"exists": bool} / {"prefix": str} / {"anything-but": [...]}."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, sub in pattern.items():
            if isinstance(sub, list) and any(isinstance(s, dict) and "exists" in s for s in sub):
                exists = next(s["exists"] for s in sub if isinstance(s, dict) and "exists" in s)
                if (key in value) != bool(exists):
                    return False
                continue
            if key not in value or not _pattern_matches(sub, value[key]):
                return False
        return True
    if isinstance(pattern, list):
        candidates = value if isinstance(value, list) else [value]
        for rule in pattern:
            for candidate in candidates:
                if isinstance(rule, dict):
                    if "prefix" in rule and isinstance(candidate, str):
                        if candidate.startswith(rule["prefix"]):
                            return True
                    elif "anything-but" in rule:
                        banned = rule["anything-but"]
                        banned = banned if isinstance(banned, list) else [banned]
                        if candidate not in banned:
                            return True
                    else:
                        raise DriverError(f"filter operator {rule} is not emulated")
                elif rule == candidate or (
                    isinstance(rule, int | float) and _number(candidate) == rule
                ):
                    return True
        return False
    raise DriverError(f"filter pattern {pattern!r} is not a JSON object or list")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# ================================================================ queue poller (local)


class _QueuePoller:
    def __init__(self, run: HttpApiRun, mapping: dict[str, Any]) -> None:
        self.run = run
        self.mapping = mapping
        self.queue_arn: str = mapping["EventSourceArn"]
        self.function_arn: str = mapping["FunctionArn"]
        self.batch_size = min(int(mapping.get("BatchSize") or 10), 10)
        self.partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        self.sqs = run.client("sqs")
        self.url = self.sqs.get_queue_url(QueueName=self.queue_arn.split(":")[-1])["QueueUrl"]
        visibility = self.sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["VisibilityTimeout"]
        )["Attributes"]["VisibilityTimeout"]
        self.visibility = int(visibility)
        short = run.short_name(self.function_arn)
        self.stats = run.stats.setdefault(short, PollerStats(short, "queue"))

    def poll(self) -> bool:
        started = time.perf_counter()
        messages = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=self.batch_size,
            VisibilityTimeout=self.visibility,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            self.stats.seconds += time.perf_counter() - started
            return False
        for message in messages:
            body = _json_or_text(message["Body"])
            if isinstance(body, dict) and "detail-type" in body and "source" in body:
                self.stats.eventbridge_deliveries += 1
                self.stats.event_ids.add(str(body.get("id")))
        event = {"Records": [self._record(m) for m in messages]}
        self.stats.invocations += 1
        self.stats.records += len(messages)
        answer = self.run.client("lambda").invoke(
            FunctionName=self.function_arn, Payload=json.dumps(event).encode()
        )
        payload = answer["Payload"].read().decode()
        failed_ids: set[str]
        if answer.get("FunctionError"):
            failed_ids = {m["MessageId"] for m in messages}
        elif self.partial:
            result = _json_or_text(payload)
            failures = result.get("batchItemFailures") if isinstance(result, dict) else None
            failed_ids = {str(f.get("itemIdentifier")) for f in failures or []}
            if failed_ids and not failed_ids <= {m["MessageId"] for m in messages}:
                failed_ids = {m["MessageId"] for m in messages}  # invalid: whole batch failed
        else:
            failed_ids = set()
        if failed_ids:
            self.stats.failed_invocations += 1
        for message in messages:
            if message["MessageId"] in failed_ids:
                # Time compressed: visible again now instead of after the visibility timeout.
                with suppress(Exception):
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
            else:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        self.stats.seconds += time.perf_counter() - started
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "SenderId": attributes.get("SenderId", "AIDACATALOGDRIVER"),
                "ApproximateFirstReceiveTimestamp": attributes.get(
                    "ApproximateFirstReceiveTimestamp", "0"
                ),
            },
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.queue_arn.split(":")[3],
        }


# ================================================================ helpers


def _json_default(value: Any) -> Any:
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


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    """Table values as JSON-friendly Python: Decimal -> int or float, sets -> sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        parsed = _json_or_text(value)
        if not isinstance(parsed, str):
            yield from _strings(parsed)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _strings(item)
