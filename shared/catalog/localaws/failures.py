"""The requests the embedded AWS itself failed, so that a client's error can name them.

A client retries a 500 or a broken connection, so such a failure is invisible unless the retry
then fails for another reason: a CreateFunction that stored the function but lost its answer is
retried into "Function already exist". Four kinds are kept, with the request each concerns:

- an exception inside moto, answered 500, with the innermost frame that raised it. moto's service
  applications run in debug mode, so every exception propagates to the dispatcher, which
  `watching` wraps; werkzeug's server (HTTP) and the in-process transport then answer 500;
- an answer slower than `SLOW_ANSWER_S`, which a client may have given up on;
- a connection the client dropped before its answer was written (werkzeug ignores those);
- an answer the client lost after it was written: its SDK retried an operation answered 2xx. That
  retry is given the same answer (`lost_answers`), so the lost answer fails nothing downstream.
"""

from __future__ import annotations

import io
import re
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .lost_answers import LostAnswers, attempt_of
from .patching import Patches

_KEPT = 50  # the last failures; a failed command names those since it started
SLOW_ANSWER_S = 20.0  # moto answers in milliseconds; this long, on a 2-core machine, is a fault
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_FORM = "application/x-www-form-urlencoded"
_LARGEST_FORM = 1 << 16  # a query-protocol request (IAM, STS, SNS) is a few KB of form
_ACTION = "catalog.action"  # the environ key of a query-protocol request's operation


@dataclass(frozen=True)
class ServerFailure:
    """`request`: "lambda POST /2015-03-31/functions", "logs Logs_20140328.CreateLogGroup";
    `error`: "RuntimeError: dictionary changed size during iteration (moto/...py:1781)"."""

    request: str
    error: str

    def __str__(self) -> str:
        return f"{self.request}: {self.error}"


def describe_request(method: str, path: str, headers: Any, action: str | None = None) -> str:
    """The service (from the signature's scope) and the operation (target header, else the
    query protocol's `Action`, else method and path)."""
    found = _SERVICE.search(headers.get("Authorization") or "")
    service = found.group(1) if found else "?"
    target = headers.get("X-Amz-Target") or action
    return f"{service} {target}" if target else f"{service} {method} {path}"


def _request_of(environ: dict[str, Any]) -> str:
    from werkzeug.datastructures import EnvironHeaders

    method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "")
    return describe_request(method, path, EnvironHeaders(environ), environ.get(_ACTION))


def _note_action(environ: dict[str, Any]) -> None:
    """A query-protocol request names its operation in its form body (`Action=CreateRole`): read
    it before the application does, and hand the application the same bytes."""
    if not environ.get("CONTENT_TYPE", "").startswith(_FORM) or "HTTP_X_AMZ_TARGET" in environ:
        return
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or not 0 < int(length) <= _LARGEST_FORM:
        return
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        environ[_ACTION] = action[0]


def _waits_by_design(request: str) -> bool:
    # An invocation runs the handler, a receive may long-poll: their time is the caller's.
    return request.endswith("/invocations") or request.endswith("AmazonSQS.ReceiveMessage")


def describe_error(error: BaseException) -> str:
    """The exception and where it was raised, relative to the installed package."""
    text = f"{type(error).__name__}: {error}"[:200]
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return text
    last = frames[-1]
    where = last.filename.split("site-packages/", 1)[-1]
    return f"{text} ({where}:{last.lineno})"


class ServerFailures:
    """The embedded AWS's own failures, in order; thread-safe (server threads record)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: deque[ServerFailure] = deque(maxlen=_KEPT)
        self._count = 0
        self.lost_answers = LostAnswers()

    @property
    def count(self) -> int:
        """How many failures there have been: a mark for `since`."""
        with self._lock:
            return self._count

    def record(self, request: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else describe_error(error)
        with self._lock:
            self._kept.append(ServerFailure(request, text))
            self._count += 1

    def since(self, mark: int) -> list[ServerFailure]:
        """The failures after `mark` (a `count` taken earlier), as far as they are kept."""
        with self._lock:
            new = self._count - mark
            return list(self._kept)[-new:] if new > 0 else []

    def summary(self, mark: int) -> str:
        """One clause for an error message: the failures after `mark`. Their absence is said too:
        then the client's error is the service's answer, not the emulator's fault."""
        failures = self.since(mark)
        if not failures:
            return " [the embedded AWS failed no request meanwhile]"
        shown = "; ".join(str(failure) for failure in failures[:3])
        more = f" (+{len(failures) - 3} more)" if len(failures) > 3 else ""
        return f" [the embedded AWS failed {len(failures)} request(s) meanwhile: {shown}{more}]"

    def watching(self, app: Any) -> Any:
        """`app` (moto's dispatcher, a WSGI application) recording what escapes it and what
        answers slowly, and answering a retry of a lost answer with that answer."""

        def watched(environ: dict[str, Any], start_response: Any) -> Any:
            _note_action(environ)
            attempt = attempt_of(environ)
            if attempt is not None and (lost := self.lost_answers.answered(attempt)) is not None:
                code = lost.status.split(" ", 1)[0]
                self.record(
                    _request_of(environ),
                    f"its {code} answer was lost: attempt {attempt.number} got it again",
                )
                start_response(lost.status, lost.headers)
                return [lost.body]
            answered: list[tuple[str, list[tuple[str, str]]]] = []

            def starting(code: str, headers: Any, exc_info: Any = None) -> Any:
                answered.append((code, headers))
                return start_response(code, headers, exc_info)

            started = time.monotonic()
            try:
                body = app(environ, starting)
                if attempt is not None and answered:
                    body = self.lost_answers.keep(attempt, *answered[-1], body)
                return body
            except Exception as exc:
                self.record(_request_of(environ), exc)
                raise
            finally:
                took = time.monotonic() - started
                if took > SLOW_ANSWER_S and not _waits_by_design(request := _request_of(environ)):
                    answer = answered[-1][0].split(" ", 1)[0] if answered else "nothing"
                    self.record(request, f"answered {answer} after {took:.1f} s")

        return watched

    def install(self, patches: Patches, server: Any) -> None:
        """Watch werkzeug's `server`: its application, and the connections a client dropped
        before its answer was written (werkzeug ignores those by default)."""
        patches.set(server, "app", self.watching(server.app))
        failures = self

        def connection_dropped(
            handler: Any, error: BaseException, environ: dict[str, Any] | None = None
        ) -> None:
            request = _request_of(environ) if environ is not None else "?"
            failures.record(request, f"the client dropped the connection: {error!r}"[:200])

        patches.set(server.RequestHandlerClass, "connection_dropped", connection_dropped)
