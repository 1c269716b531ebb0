"""API Gateway HTTP APIs of the embedded AWS: a request to a deployed API's endpoint reaches the
integrated function the way API Gateway delivers it.

moto stores HTTP APIs (routes, integrations, authorizers, stages) but does not serve them. Here:
- Routing: the route keys of the API, API Gateway's way: an exact path beats a path with
  parameters (fewer parameters first), `ANY` matches every method, `{proxy+}` matches the rest of
  the path, `$default` catches what nothing else matches; no route: 404 `{"message":"Not Found"}`.
  The first path segment selects a named stage when the API has one, else the `$default` stage.
- Integrations: Lambda proxy (AWS_PROXY), payload format 2.0 only (1.0 is refused, not guessed).
  The event is the 2.0 proxy event (lower-cased headers, comma-joined repeated query parameters,
  cookies, path parameters, stage variables, requestContext); the function is invoked through the
  Lambda API, so the in-process invoker, its faults and its log see it.
- Results, as API Gateway reads them: a dict with statusCode is a response (base64 bodies
  decoded); anything else is a 200 JSON body; a function error is 500
  `{"message":"Internal Server Error"}`; an unparseable result is 502.
- Authorization (the route's AuthorizationType), with the context API Gateway adds:
  AWS_IAM: `authorizer.iam` for the caller of the embedded AWS's fake credentials (there are no
  signatures to verify locally). JWT: the bearer token of the authorizer's identity source must
  carry the configured issuer and an allowed audience (or client_id), must not be expired, and
  must hold one of the route's AuthorizationScopes; its claims become `authorizer.jwt`. The
  token's signature is NOT verified: offline there is no issuer to fetch keys from. CUSTOM (a
  Lambda REQUEST authorizer, payload 2.0): the authorizer function is invoked; a simple response
  (`isAuthorized`) or an IAM policy allowing the route ARN lets the request through, its
  `context` becomes `authorizer.lambda`; a missing identity source is 401, a denial 403, a failing
  authorizer 500. Authorizer result caching is not emulated (every request is authorized).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

ClientFactory = Callable[[str], Any]
JSON = {"content-type": "application/json"}


class HttpApiError(ValueError):
    """The request cannot be emulated (no such API, an integration that is not emulated)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class Route:
    api_id: str
    route_key: str  # "POST /orders", "ANY /{proxy+}", "$default"
    function_arn: str
    authorization: str = "NONE"  # NONE | AWS_IAM | JWT | CUSTOM
    authorizer_id: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the stage
    query: str
    headers: dict[str, str]  # lower-cased names
    body: str | None
    domain: str
    stage: str


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, dict(JSON), json.dumps({"message": message}))


class HttpApis:
    """Serves requests to the HTTP APIs deployed on the embedded AWS (`aws.http_apis`)."""

    def __init__(self, client: ClientFactory) -> None:
        self._client = client

    def request(
        self,
        url: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> HttpResponse:
        """One request to `https://<api id>.execute-api.<region>.amazonaws.com[/<stage>]/path`."""
        parts = urlsplit(url)
        domain = parts.hostname or ""
        api_id = domain.split(".")[0]
        apigw = self._client("apigatewayv2")
        try:
            apigw.get_api(ApiId=api_id)
        except Exception as exc:
            raise HttpApiError(f"no HTTP API {api_id!r} on the embedded AWS ({url})") from exc
        stage, path = _stage_and_path(apigw, api_id, parts.path or "/")
        lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
        lowered.setdefault("host", domain)
        lowered.setdefault("user-agent", "catalog-localaws")
        lowered.setdefault("x-forwarded-proto", "https")
        if body is not None:
            lowered["content-length"] = str(len(body.encode()))
        request = Request(method.upper(), path, parts.query, lowered, body, domain, stage)
        route = match_route(self.routes(api_id), request.method, request.path)
        if route is None:
            return _error(404, "Not Found")
        event = proxy_event(route, request)
        denied = self._authorize(apigw, route, request, event)
        if denied is not None:
            return denied
        answer = self._client("lambda").invoke(
            FunctionName=route.function_arn, Payload=json.dumps(event).encode()
        )
        if answer.get("FunctionError"):
            return _error(500, "Internal Server Error")
        return map_response(answer["Payload"].read().decode())

    def routes(self, api_id: str) -> list[Route]:
        apigw = self._client("apigatewayv2")
        integrations = {
            i["IntegrationId"]: i for i in apigw.get_integrations(ApiId=api_id).get("Items", [])
        }
        routes = []
        for route in apigw.get_routes(ApiId=api_id).get("Items", []):
            target = str(route.get("Target") or "")
            integration = integrations.get(target.removeprefix("integrations/"))
            if not integration:
                continue
            if integration.get("IntegrationType") != "AWS_PROXY":
                raise HttpApiError(f"route {route['RouteKey']}: only Lambda proxy is emulated")
            if integration.get("PayloadFormatVersion", "1.0") != "2.0":
                raise HttpApiError(f"route {route['RouteKey']}: only payload 2.0 is emulated")
            routes.append(
                Route(
                    api_id,
                    route["RouteKey"],
                    _function_arn(integration["IntegrationUri"]),
                    str(route.get("AuthorizationType") or "NONE"),
                    route.get("AuthorizerId"),
                    tuple(route.get("AuthorizationScopes") or ()),
                )
            )
        return routes

    # --- authorization ---------------------------------------------------------------------

    def _authorize(
        self, apigw: Any, route: Route, request: Request, event: dict[str, Any]
    ) -> HttpResponse | None:
        """Add the authorizer context to `event`; a response when the request is refused."""
        context = event["requestContext"]
        account = route.function_arn.split(":")[4]
        if route.authorization == "AWS_IAM":
            context["authorizer"] = {"iam": _iam_caller(account)}
            return None
        if route.authorization not in ("JWT", "CUSTOM"):
            return None
        authorizer = apigw.get_authorizer(ApiId=route.api_id, AuthorizerId=route.authorizer_id)
        sources = [_identity(s, request) for s in authorizer.get("IdentitySource") or []]
        if not sources or any(s is None for s in sources):
            return _error(401, "Unauthorized")
        if route.authorization == "JWT":
            return _authorize_jwt(authorizer, route, str(sources[0]), context)
        return self._authorize_lambda(authorizer, route, request, event, sources)

    def _authorize_lambda(
        self,
        authorizer: dict[str, Any],
        route: Route,
        request: Request,
        event: dict[str, Any],
        sources: list[str | None],
    ) -> HttpResponse | None:
        if authorizer.get("AuthorizerPayloadFormatVersion", "2.0") != "2.0":
            raise HttpApiError("Lambda authorizers: only payload format 2.0 is emulated")
        route_arn = _route_arn(route, request)
        authorizer_event = {
            **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": sources,
        }
        answer = self._client("lambda").invoke(
            FunctionName=_function_arn(authorizer["AuthorizerUri"]),
            Payload=json.dumps(authorizer_event).encode(),
        )
        if answer.get("FunctionError"):
            return _error(500, "Internal Server Error")
        try:
            result = json.loads(answer["Payload"].read().decode() or "null")
        except ValueError:
            return _error(500, "Internal Server Error")
        if not isinstance(result, dict):
            return _error(500, "Internal Server Error")
        if authorizer.get("EnableSimpleResponses"):
            allowed = result.get("isAuthorized") is True
        else:
            allowed = _policy_allows(result.get("policyDocument") or {}, route_arn)
        if not allowed:
            return _error(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": result.get("context") or {}}
        return None


def _authorize_jwt(
    authorizer: dict[str, Any], route: Route, token: str, context: dict[str, Any]
) -> HttpResponse | None:
    config = authorizer.get("JwtConfiguration") or {}
    claims = _jwt_claims(token.removeprefix("Bearer ").strip())
    now = time.time()
    audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    valid = (
        claims
        and claims.get("iss") == config.get("Issuer")
        and bool(set(config.get("Audience") or []) & {*audiences, claims.get("client_id")})
        and float(claims.get("exp", now + 1)) > now
        and float(claims.get("nbf", now)) <= now
    )
    if not valid:
        return _error(401, "Unauthorized")
    scopes = str(claims.get("scope") or " ".join(claims.get("scp") or [])).split()
    if route.scopes and not set(route.scopes) & set(scopes):
        return _error(403, "Forbidden")
    context["authorizer"] = {
        "jwt": {
            "claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()},
            "scopes": scopes or None,
        }
    }
    return None


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _policy_allows(policy: dict[str, Any], route_arn: str) -> bool:
    """An IAM policy response: some Allow statement covers the route ARN, no Deny does."""
    allowed = False
    for statement in policy.get("Statement") or []:
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(route_arn, r) for r in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed |= statement.get("Effect") == "Allow"
    return allowed


def _iam_caller(account: str) -> dict[str, Any]:
    return {
        "accessKey": "AKIACATALOGLOCALAWS",
        "accountId": account,
        "callerId": "AIDACATALOGLOCALAWS",
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{account}:user/catalog-localaws",
        "userId": "AIDACATALOGLOCALAWS",
        "cognitoIdentity": None,
    }


def _identity(source: str, request: Request) -> str | None:
    """The value of an identity source (`$request.header.X`, `$request.querystring.x`)."""
    kind, _, name = source.removeprefix("$request.").partition(".")
    if kind == "header":
        return request.headers.get(name.lower())
    if kind == "querystring":
        return _query_parameters(request.query).get(name)
    raise HttpApiError(f"identity source {source!r} is not emulated")


def _route_arn(route: Route, request: Request) -> str:
    region, account = route.function_arn.split(":")[3:5]
    return (
        f"arn:aws:execute-api:{region}:{account}:{route.api_id}/{request.stage}/"
        f"{request.method}{request.path}"
    )


# --- routing and the proxy event --------------------------------------------------------------


def _stage_and_path(apigw: Any, api_id: str, path: str) -> tuple[str, str]:
    first, _, rest = path.lstrip("/").partition("/")
    stages = {s["StageName"] for s in apigw.get_stages(ApiId=api_id).get("Items", [])}
    if first and first in stages and first != "$default":
        return first, "/" + rest
    return "$default", path


def _function_arn(uri: str) -> str:
    # An invoke ARN (arn:aws:apigateway:...:lambda:path/2015-03-31/functions/<arn>/invocations)
    # or the function ARN itself.
    if "/functions/" in uri:
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")
    return uri


def match_route(routes: list[Route], method: str, path: str) -> Route | None:
    def matches(key: str) -> bool:
        route_method, _, route_path = key.partition(" ")
        if route_method not in (method, "ANY"):
            return False
        want, got = route_path.strip("/").split("/"), path.strip("/").split("/")
        for index, part in enumerate(want):
            if part.endswith("+}"):
                return len(got) > index
            if index >= len(got) or (part != got[index] and not part.startswith("{")):
                return False
        return len(want) == len(got)

    exact = [r for r in routes if r.route_key != "$default" and matches(r.route_key)]
    # API Gateway prefers the most specific route: fewer parameters first, greedy last.
    exact.sort(key=lambda r: (r.route_key.count("+}"), r.route_key.count("{")))
    if exact:
        return exact[0]
    return next((r for r in routes if r.route_key == "$default"), None)


def proxy_event(route: Route, request: Request) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration (HTTP API, payload format 2.0)."""
    now = datetime.now(UTC)
    headers = {k: v for k, v in request.headers.items() if k != "cookie"}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path
        if request.stage == "$default"
        else f"/{request.stage}{request.path}",
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": route.function_arn.split(":")[4],
            "apiId": route.api_id,
            "domainName": request.domain,
            "domainPrefix": route.api_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": request.headers["user-agent"],
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            "routeKey": route.route_key,
            "stage": request.stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in request.headers:
        event["cookies"] = [c.strip() for c in request.headers["cookie"].split(";")]
    if request.query:
        event["queryStringParameters"] = _query_parameters(request.query)
    path_parameters = _path_parameters(route.route_key, request.path)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body is not None:
        event["body"] = request.body
    return event


def _query_parameters(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        key, value = unquote(key), unquote(value)
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _path_parameters(route_key: str, path: str) -> dict[str, str]:
    _, _, route_path = route_key.partition(" ")
    params = {}
    got = path.strip("/").split("/")
    for index, part in enumerate(route_path.strip("/").split("/")):
        if part.startswith("{") and index < len(got):
            name = part.strip("{}").rstrip("+")
            params[name] = "/".join(got[index:]) if part.endswith("+}") else got[index]
    return params


def map_response(payload: str) -> HttpResponse:
    """API Gateway's reading of a payload 2.0 result."""
    try:
        result = json.loads(payload) if payload else None
    except json.JSONDecodeError:
        return _error(502, "Internal Server Error")
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        if result.get("cookies"):
            headers["set-cookie"] = ", ".join(result["cookies"])
        return HttpResponse(int(result["statusCode"]), headers, body)
    return HttpResponse(200, dict(JSON), json.dumps(result))
