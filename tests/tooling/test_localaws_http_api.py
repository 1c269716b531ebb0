"""API Gateway HTTP APIs on the embedded AWS (catalog.localaws.http_api): routing, the payload 2.0
event, result mapping, and every authorization type, through APIs created with boto3."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from catalog.localaws import HttpApiError, LocalAws
from catalog.localaws.http_api import Request, Route, map_response, match_route, proxy_event

ARN = "arn:aws:lambda:us-east-1:123456789012:function:api"


def _routes() -> list[Route]:
    return [
        Route("abc123", "POST /orders", ARN),
        Route("abc123", "GET /orders/{id}", ARN),
        Route("abc123", "GET /orders/latest", ARN),
        Route("abc123", "ANY /files/{path+}", ARN),
        Route("abc123", "GET /files/{name}", ARN),
    ]


def test_routes_match_like_api_gateway() -> None:
    def key(method: str, path: str) -> str | None:
        route = match_route(_routes(), method, path)
        return route.route_key if route else None

    assert key("POST", "/orders") == "POST /orders"
    assert key("GET", "/orders/latest") == "GET /orders/latest"
    assert key("GET", "/orders/42") == "GET /orders/{id}"
    assert key("PUT", "/files/a/b") == "ANY /files/{path+}"
    assert key("GET", "/files/a") == "GET /files/{name}"  # greedy last
    assert key("DELETE", "/orders") is None
    assert match_route([*_routes(), Route("abc123", "$default", ARN)], "DELETE", "/x") is not None


def _request(method: str, path: str, query: str = "", **headers: str) -> Request:
    lowered = {
        "host": "abc123.example",
        "user-agent": "t",
        **{k.lower(): v for k, v in headers.items()},
    }
    return Request(method, path, query, lowered, None, "abc123.example", "$default")


def test_proxy_event_is_payload_format_2() -> None:
    request = _request(
        "GET", "/orders/42", "a=1&a=2&b=x%20y", Cookie="c=1; d=2", **{"X-Trace": "t"}
    )
    event = proxy_event(_routes()[1], request)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /orders/{id}"
    assert event["rawPath"] == "/orders/42" and event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["c=1", "d=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-trace"] == "t"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"
    assert "body" not in event and "authorizer" not in event["requestContext"]


def test_results_map_like_api_gateway() -> None:
    mapped = map_response(json.dumps({"statusCode": 409, "body": "{}", "headers": {"A": "b"}}))
    assert (mapped.status, mapped.headers, mapped.body) == (409, {"A": "b"}, "{}")
    plain = map_response(json.dumps({"x": 1}))  # no statusCode: a 200 JSON body
    assert (plain.status, plain.body) == (200, '{"x": 1}')
    assert (
        map_response(json.dumps({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True})).body
        == "hi"
    )
    assert map_response("{not json").status == 502


# ================================================================ APIs on the embedded AWS

ECHO = """\
import json


def handler(event, context):
    if event.get("body") == "crash":
        raise RuntimeError("crash")
    return {"statusCode": 200, "body": json.dumps(event)}
"""
AUTHORIZER = """\
def handler(event, context):
    token = event["identitySource"][0]
    if token == "boom":
        raise RuntimeError("boom")
    if event.get("routeArn", "").endswith("/POST/simple"):
        return {"isAuthorized": token == "let-me-in", "context": {"user": "u-1"}}
    effect = "Allow" if token == "let-me-in" else "Deny"
    return {
        "principalId": "u-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": [event["routeArn"]]}],
        },
        "context": {"user": "u-1", "tier": "gold"},
    }
"""


@pytest.fixture(autouse=True)
def _clean(aws: LocalAws) -> None:
    aws.reset()


def _api(aws: LocalAws) -> tuple[Any, str, str]:
    """An HTTP API with one echo integration; returns (client, api id, endpoint)."""
    apigw = aws.client("apigatewayv2")
    api = apigw.create_api(Name="api", ProtocolType="HTTP")
    return apigw, api["ApiId"], api["ApiEndpoint"]


def _integration(apigw: Any, api_id: str, function_arn: str, version: str = "2.0") -> str:
    return str(
        apigw.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=function_arn,
            PayloadFormatVersion=version,
        )["IntegrationId"]
    )


def test_request_reaches_the_route_with_stage_and_errors(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    echo = make_function("echo", ECHO)
    apigw, api_id, endpoint = _api(aws)
    target = f"integrations/{_integration(apigw, api_id, echo)}"
    apigw.create_route(ApiId=api_id, RouteKey="POST /orders/{id}", Target=target)
    apigw.create_stage(ApiId=api_id, StageName="prod")
    response = aws.http_apis.request(f"{endpoint}/prod/orders/7?x=1", "POST", {"X-A": "b"}, "{}")
    assert response.status == 200
    event = json.loads(response.body)
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"id": "7"} and event["headers"]["x-a"] == "b"
    assert event["body"] == "{}" and event["headers"]["content-length"] == "2"
    assert aws.invocations[-1].function_name == "echo"  # through the Lambda API and invoker
    assert aws.http_apis.request(f"{endpoint}/nowhere", "GET").status == 404
    crashed = aws.http_apis.request(f"{endpoint}/orders/7", "POST", body="crash")
    assert (crashed.status, json.loads(crashed.body)) == (500, {"message": "Internal Server Error"})
    with pytest.raises(HttpApiError, match="no HTTP API"):
        aws.http_apis.request("https://nope.execute-api.us-east-1.amazonaws.com/x")


def test_payload_1_is_refused_not_guessed(aws: LocalAws, make_function: Callable[..., str]) -> None:
    echo = make_function("echo", ECHO)
    apigw, api_id, endpoint = _api(aws)
    target = f"integrations/{_integration(apigw, api_id, echo, '1.0')}"
    apigw.create_route(ApiId=api_id, RouteKey="GET /x", Target=target)
    with pytest.raises(HttpApiError, match=r"payload 2\.0"):
        aws.http_apis.request(f"{endpoint}/x")


def test_iam_route_carries_the_caller(aws: LocalAws, make_function: Callable[..., str]) -> None:
    echo = make_function("echo", ECHO)
    apigw, api_id, endpoint = _api(aws)
    target = f"integrations/{_integration(apigw, api_id, echo)}"
    apigw.create_route(ApiId=api_id, RouteKey="GET /x", Target=target, AuthorizationType="AWS_IAM")
    event = json.loads(aws.http_apis.request(f"{endpoint}/x").body)
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_jwt_route_checks_issuer_audience_expiry_and_scopes(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    echo = make_function("echo", ECHO)
    apigw, api_id, endpoint = _api(aws)
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer", "Audience": ["app"]},
    )["AuthorizerId"]
    target = f"integrations/{_integration(apigw, api_id, echo)}"
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /x",
        Target=target,
        AuthorizationType="JWT",
        AuthorizerId=authorizer,
        AuthorizationScopes=["orders/read"],
    )
    good = {
        "iss": "https://issuer",
        "aud": "app",
        "sub": "u-1",
        "scope": "orders/read",
        "exp": time.time() + 60,
    }

    def status(claims: dict[str, Any] | None) -> int:
        headers = {"Authorization": f"Bearer {_jwt(claims)}"} if claims is not None else {}
        return aws.http_apis.request(f"{endpoint}/x", headers=headers).status

    assert status(good) == 200
    assert status(None) == 401
    assert status({**good, "iss": "https://other"}) == 401
    assert status({**good, "aud": "other"}) == 401
    assert status({**good, "exp": time.time() - 1}) == 401
    assert status({**good, "scope": "orders/write"}) == 403
    response = aws.http_apis.request(
        f"{endpoint}/x", headers={"Authorization": f"Bearer {_jwt(good)}"}
    )
    jwt = json.loads(response.body)["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "u-1" and jwt["scopes"] == ["orders/read"]


def test_lambda_authorizer_simple_and_policy_responses(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    echo = make_function("echo", ECHO)
    authorizer_arn = make_function("authorizer", AUTHORIZER)
    apigw, api_id, endpoint = _api(aws)
    target = f"integrations/{_integration(apigw, api_id, echo)}"
    for name, simple in (("simple", True), ("policy", False)):
        authorizer = apigw.create_authorizer(
            ApiId=api_id,
            AuthorizerType="REQUEST",
            Name=name,
            AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{authorizer_arn}/invocations",
            AuthorizerPayloadFormatVersion="2.0",
            EnableSimpleResponses=simple,
            IdentitySource=["$request.header.X-Token"],
        )["AuthorizerId"]
        apigw.create_route(
            ApiId=api_id,
            RouteKey=f"POST /{name}",
            Target=target,
            AuthorizationType="CUSTOM",
            AuthorizerId=authorizer,
        )
    for name, context in (("simple", {"user": "u-1"}), ("policy", {"user": "u-1", "tier": "gold"})):
        url = f"{endpoint}/{name}"
        allowed = aws.http_apis.request(url, "POST", {"X-Token": "let-me-in"}, "{}")
        assert allowed.status == 200
        assert json.loads(allowed.body)["requestContext"]["authorizer"]["lambda"] == context
        assert aws.http_apis.request(url, "POST", {"X-Token": "nope"}, "{}").status == 403
        assert aws.http_apis.request(url, "POST", {}, "{}").status == 401
        assert aws.http_apis.request(url, "POST", {"X-Token": "boom"}, "{}").status == 500
    authorizer_event = next(c.event for c in aws.invocations if c.function_name == "authorizer")
    assert authorizer_event["type"] == "REQUEST" and authorizer_event["identitySource"] == [
        "let-me-in"
    ]
    assert authorizer_event["routeArn"].endswith(f"{api_id}/$default/POST/simple")
