"""A client's retry of a request whose answer it lost gets that answer again, not a second run.

The AWS SDKs (Go's, which the Terraform provider uses, and botocore) send every attempt of one
operation with the same `amz-sdk-invocation-id` and number it in `amz-sdk-request: attempt=N`.
A client never retries a 2xx answer it received, so a later attempt of an operation this server
answered 2xx means that answer was lost on its way back (a reset connection on the loopback under
load). Run again, a create that succeeded turns into a conflict, "Function already exist" or
"Alias already exists", which the provider retries for five minutes and then fails on: an artifact
of the emulator's transport, not an answer of the service. So the first answer is served again,
and `ServerFailures` records the loss.

Only 2xx answers of requests that change state are kept (any method but GET and HEAD, as the AWS
JSON and query protocols send reads by POST too), the last `_KEPT` of them, each up to
`_LARGEST_KEPT` bytes. Invocations are never kept: their answer is the function's own (large, or
streamed), and a retried invoke runs the function again on AWS too.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .transport import whole_body

_KEPT = 512
_LARGEST_KEPT = 1 << 20
_ATTEMPT = re.compile(r"attempt=(\d+)")


@dataclass(frozen=True)
class Attempt:
    """One attempt of an SDK operation: the operation's id and the attempt's number (from 1)."""

    invocation: str
    number: int


@dataclass(frozen=True)
class Answer:
    status: str  # "201 Created"
    headers: list[tuple[str, str]]
    body: bytes


def attempt_of(environ: dict[str, Any]) -> Attempt | None:
    """The SDK attempt a request is, when it is one this module may keep or serve again."""
    invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
    if not invocation or environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
        return None
    if environ.get("PATH_INFO", "").endswith("/invocations"):
        return None
    found = _ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return Attempt(invocation, int(found.group(1)) if found else 1)


class LostAnswers:
    """The last 2xx answers by SDK operation; thread-safe (server threads keep and look up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def answered(self, attempt: Attempt) -> Answer | None:
        """The answer an earlier attempt of this operation was given, if this is a later one."""
        if attempt.number < 2:
            return None
        with self._lock:
            return self._answers.get(attempt.invocation)

    def keep(self, attempt: Attempt, status: str, headers: list[tuple[str, str]], body: Any) -> Any:
        """`body` (the application's iterable) as bytes, kept when the answer is a 2xx."""
        if not status.startswith("2"):
            return body
        content = whole_body(body)
        if len(content) <= _LARGEST_KEPT:
            with self._lock:
                self._answers[attempt.invocation] = Answer(status, list(headers), content)
                self._answers.move_to_end(attempt.invocation)
                while len(self._answers) > _KEPT:
                    self._answers.popitem(last=False)
        return [content]
