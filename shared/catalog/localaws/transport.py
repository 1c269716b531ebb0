"""In-process transport: a boto3 client in this process that targets the embedded AWS reaches
the moto server's WSGI application directly, without a socket.

Through HTTP every call costs a TCP connection, a server thread and werkzeug's request parsing
(about 15-20 ms on a busy 2-core machine); handed to the same application in-process it costs
well under a millisecond more than moto's own work. Everything above the socket stays the same:
botocore serializes, signs, retries and parses the answer as before, and the server's
application dispatches the request (host, signature, target header) as it would over HTTP, so
every shim and the in-process invoker see the same calls. Clients of other processes (terraform,
a second interpreter) still use the socket.

A request runs in a fresh `contextvars.Context`, as a server thread would start: the caller's
environment overlay and output capture (an in-process Lambda invocation's) never leak into the
service's own code.

An exception escaping the application becomes the answer werkzeug's server (`run_wsgi`) gives
over HTTP: status 500 with werkzeug's InternalServerError page, which botocore parses as a
service error and retries, as real AWS's InternalFailure. Raised into the caller instead, a bug
in moto would reach a handler under test as an exception no AWS call can raise.
"""

from __future__ import annotations

import contextvars
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from .patching import Patches

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class InProcessTransport:
    """Serves the requests whose URL is on `host:port` of the embedded AWS with `app`."""

    def __init__(self, app: WsgiApp, port: int) -> None:
        self.app = app
        self.port = port
        self.netlocs = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.requests = 0

    def serves(self, url: str) -> bool:
        return urlsplit(url).netloc in self.netlocs

    def send(self, request: Any) -> Any:
        """An AWSPreparedRequest in, an AWSResponse out, as botocore's HTTP session answers."""
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        self.requests += 1
        status, headers, body = contextvars.Context().run(self._call, request)
        return AWSResponse(request.url, status, headers, MockRawResponse(body))

    def _call(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        environ = _environ(request)
        try:
            return _serve(self.app, environ)
        except Exception:
            from werkzeug.exceptions import InternalServerError

            # The app LocalAws serves records the exception (`LocalAws.failures`); the caller gets
            # the 500, not werkzeug's traceback on stderr.
            return _serve(InternalServerError(), environ)


def _serve(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """`app`'s whole answer to `environ`: status, headers and body."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers
        return lambda chunk: None

    body = whole_body(app(environ, start_response))
    return answer["status"], dict(answer["headers"]), body


def whole_body(chunks: Iterable[bytes]) -> bytes:
    """A WSGI application's answer body, read to the end and closed, as WSGI asks."""
    try:
        return b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _environ(request: Any) -> dict[str, Any]:
    """The WSGI environment werkzeug's server (with moto's request handler) would build."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )

    url = urlsplit(request.url)
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = body or b""
    target = url.path + (f"?{url.query}" if url.query else "")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _latin1(unquote(url.path)),
        "QUERY_STRING": _latin1(url.query),
        "REQUEST_URI": _latin1(target),
        "RAW_URI": _latin1(target),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": url.hostname or "127.0.0.1",
        "SERVER_PORT": str(url.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": url.netloc,
    }
    names: dict[str, str] = {}
    for name, value in request.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        text = text.replace("\r\n", "")
        if "_" in name and not should_preserve_original_header_name(name):
            continue  # werkzeug drops them (X_Foo could spoof X-Foo)
        key = environ_key_for_header(name)
        if "_" in name:
            names.setdefault(key, name)
        if key.startswith("HTTP_") and key in environ and key != "HTTP_HOST":
            text = f"{environ[key]},{text}"
        environ[key] = text
    environ["CONTENT_LENGTH"] = str(len(body))
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    return environ


def _latin1(text: str) -> str:
    """PEP 3333: environ strings carry the request's bytes as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def install(patches: Patches, transport: InProcessTransport) -> None:
    """Route botocore's sends to the embedded AWS through `transport` (every client of this
    process, whenever its session was made); other endpoints keep their HTTP session."""
    from botocore.endpoint import Endpoint

    original = Endpoint._send

    def _send(self: Any, request: Any) -> Any:
        if transport.serves(request.url):
            return transport.send(request)
        return original(self, request)

    patches.set(Endpoint, "_send", _send)
