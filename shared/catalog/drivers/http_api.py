"""Driver for HTTP API patterns: send the scenario's requests to the deployed API, let the stack
settle (its event sources run until idle), observe.

Scenario input: one request `{"method", "path", "headers", "body"}` or `{"requests": [...]}`.
A `body` that is not a string is sent as JSON. `"retry": {"attempts": 3, "on": [500, 503]}` on a
request makes the client retry it (same headers and body) on those statuses.

Outputs used: `api_endpoint`, plus what `stack.StackRun` reads. On the embedded AWS the request
goes to `LocalAws.http_apis` (API Gateway HTTP API emulation: routes, payload 2.0, authorizers);
on real AWS over HTTPS, signed with SigV4 for AWS_IAM routes. Faults are injected on the embedded
AWS only. The report's steps, tables and link keys come from metadata `catalog.report`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..localaws.http_api import Route, match_route
from ..scenarios import Scenario
from .base import DriverContext, DriverError, ScenarioResult
from .observe import identifiers, json_or_text, strings
from .stack import StackRun, seed_identifiers


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


class HttpApiRun(StackRun):
    """A StackRun whose input is HTTP requests to the stack's API."""

    @property
    def endpoint(self) -> str:
        endpoint = str(self.outputs.get("api_endpoint") or "").rstrip("/")
        if not endpoint:
            raise DriverError("outputs have no api_endpoint")
        return endpoint

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
            status, out_headers, out_body = self._request(method, path, headers, body)
            if status not in retry_on or attempts >= attempts_allowed:
                break
        return HttpExchange(
            method,
            path,
            status,
            out_headers,
            json_or_text(out_body),
            attempts,
            time.perf_counter() - started,
        )

    def _request(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        if self.ctx.aws is not None:
            answer = self.ctx.aws.http_apis.request(self.endpoint + path, method, headers, body)
            return answer.status, answer.headers, answer.body
        return self._https(method, path, headers, body)

    def _https(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        url = self.endpoint + path
        if self._needs_iam(method, path):
            headers = self._sigv4(method, url, headers, body)
        request = urllib.request.Request(
            url, data=body.encode() if body is not None else None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers or {}), exc.read().decode()

    def _needs_iam(self, method: str, path: str) -> bool:
        """Whether the route API Gateway picks for the request is an AWS_IAM route."""
        api_id = (urlsplit(self.endpoint).hostname or "").split(".")[0]
        routes = [
            Route(api_id, r["RouteKey"], "", str(r.get("AuthorizationType") or "NONE"))
            for r in self.client("apigatewayv2").get_routes(ApiId=api_id).get("Items", [])
        ]
        matched = match_route(routes, method, path.split("?")[0])
        return matched is not None and matched.authorization == "AWS_IAM"

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


def run_scenario(ctx: DriverContext, scenario: Scenario) -> ScenarioResult:
    started = time.perf_counter()
    run = HttpApiRun(ctx)
    faults = ctx.apply_faults(scenario)
    failure_urls = run.failure_queue_urls()
    depths_before = run.queue_depths()
    exchanges = [run.send(request) for request in requests_of(scenario.input)]
    api_done = time.perf_counter()
    settle_s = run.settle()
    depths_after = run.queue_depths()
    parked = {name: depths_after.get(name, 0) - depths_before.get(name, 0) for name in failure_urls}
    failed = [str(e.error) for e in exchanges if not e.ok]
    status, error = run.outcome(failed, parked)
    details = {
        "http": [e.as_dict() for e in exchanges],
        **run.details(faults, failure_urls, parked),
        "latency_ms": {
            "api": round((api_done - started) * 1000, 1),
            "settle": round(settle_s * 1000, 1),
        },
    }
    return ScenarioResult(
        scenario=scenario.name,
        status=status,
        error=error,
        steps=run.steps(ctx.report, sum(e.attempts for e in exchanges), not failed),
        tables=run.report_rows(_needles(scenario, exchanges)),
        details=details,
        duration_s=time.perf_counter() - started,
    )


def _needles(scenario: Scenario, exchanges: list[HttpExchange]) -> set[str]:
    """Identifiers of this run, to pick its rows: request headers (idempotency keys), top-level
    body fields named *id, everything the responses returned, and the seed rows."""
    found = set(seed_identifiers(scenario))
    for request in requests_of(scenario.input):
        found |= identifiers(request.get("headers") or {})
        body = json_or_text(request.get("body"))
        if isinstance(body, Mapping):
            found |= identifiers([v for k, v in body.items() if k.lower().endswith("id")])
    for exchange in exchanges:
        found |= identifiers(list(strings(exchange.body)))
    return found


def requests_of(scenario_input: Any) -> list[Mapping[str, Any]]:
    if isinstance(scenario_input, Mapping) and "requests" in scenario_input:
        requests = scenario_input["requests"]
    else:
        requests = [scenario_input]
    if not isinstance(requests, list) or not all(isinstance(r, Mapping) for r in requests):
        raise DriverError("input must be a request object or {'requests': [request, ...]}")
    return requests
