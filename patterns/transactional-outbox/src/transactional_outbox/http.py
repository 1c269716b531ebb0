"""HTTP API (payload format 2.0) responses and request checks for the event handler's route."""

from __future__ import annotations

import base64
import re
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, ValidationError

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Header lookups are case-insensitive (payload 2.0 lower-cases names; the event class ignores case).
# Visible ASCII, at most 255 characters (the IETF Idempotency-Key draft leaves the format open).
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
Model = TypeVar("Model", bound=BaseModel)


class BadRequest(Exception):
    """The request is malformed: answered 400 with the reasons, nothing is written."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    # The resolver serialises the body (compact JSON) and sets Content-Type from content_type.
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers or {},
    )


def error(status: int, code: str, message: str, **extra: Any) -> Response[dict[str, Any]]:
    headers = {"Retry-After": "1"} if status in (409, 503) else None
    return response(status, {"error": code, "message": message, **extra}, headers)


def body_text(body: str | None, is_base64: bool | None) -> str:
    if not body:
        raise BadRequest("request body is required", [])
    if is_base64:
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("request body is not valid UTF-8", []) from exc
    return body


def parse_body(model: type[Model], text: str) -> Model:
    """The body as `model`; a BadRequest naming every problem, field path first."""
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise BadRequest("request body is invalid", validation_errors(exc)) from None


def idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header's value, checked (None when the header is absent)."""
    if value is None:
        return None
    if not _KEY.match(value):
        raise BadRequest(
            "Idempotency-Key must be 1-255 visible ASCII characters",
            [
                {
                    "loc": ["header", IDEMPOTENCY_HEADER],
                    "msg": "invalid format",
                    "type": "value_error",
                }
            ],
        )
    return value


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the echoed input (it could be large or sensitive)."""
    return [
        {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
