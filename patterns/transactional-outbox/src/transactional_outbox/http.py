"""HTTP API (payload format 2.0) responses and request helpers."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from pydantic import ValidationError

IDEMPOTENCY_HEADER = "idempotency-key"  # HTTP API lower-cases header names in payload 2.0
# Visible ASCII, at most 255 characters (the IETF Idempotency-Key draft leaves the format open).
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class BadRequest(Exception):
    """The request is malformed: answered 400 with the reasons, nothing is written."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
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


def idempotency_key(headers: dict[str, str]) -> str | None:
    key = next((v for k, v in headers.items() if k.lower() == IDEMPOTENCY_HEADER), None)
    if key is None:
        return None
    if not _KEY.match(key):
        raise BadRequest(
            "Idempotency-Key must be 1-255 visible ASCII characters",
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "invalid format",
                    "type": "value_error",
                }
            ],
        )
    return key


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the echoed input (it could be large or sensitive)."""
    return [
        {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
