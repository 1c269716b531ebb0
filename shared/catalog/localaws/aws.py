"""`LocalAws`: the embedded AWS, a moto server in this process plus the catalog's patches."""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import os
import socket
import struct
import threading
import urllib.request
from typing import Any

from .. import interrupts
from . import environ, hooks, output, shims, speedups, transport
from .event_sources import SETTLE_TIMEOUT_S, EventSources, Settled
from .executions import ExecutionEnds
from .failures import ServerFailures
from .faults import FaultInjector
from .http_api import HttpApis
from .inventory import inventory
from .invoker import InProcessInvoker, Invocation
from .patching import Patches

# moto keeps its backends, config and patched classes process-global: two servers in one process
# would share state and patches, so only one LocalAws may be started at a time.
_ACTIVE: LocalAws | None = None
_ACTIVE_LOCK = threading.Lock()

FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"
# Variables that could route a client to a real account; absent while the embedded AWS runs.
_UNSET_WHILE_STARTED = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")


class LocalAws:
    """Context manager (or start()/stop()) for one embedded AWS endpoint.

    Public state: `endpoint_url`, `port`, `region`; `faults` (FaultInjector); `invocations`
    (every in-process Lambda invocation, in completion order; sort by `started` for start
    order); `retry_sleeps` and `record_retry_sleeps` (Step Functions retry intervals recorded
    instead of slept while the flag is on); `executions` (Step Functions executions that have
    ended: `executions.wait(arns, timeout)` blocks until they have); `event_sources` (the Lambda event-source mapping
    pollers, run by `settle()`), `http_apis` (API Gateway HTTP APIs served in-process) and
    `failures` (the requests the embedded AWS itself failed: a 500, a slow answer, a dropped
    connection, a lost answer served again).
    """

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.port = 0
        self.endpoint_url = ""
        self.faults = FaultInjector()
        self.invocations: list[Invocation] = []
        self.retry_sleeps: list[float] = []
        self.record_retry_sleeps = False
        self.executions = ExecutionEnds()
        self.failures = ServerFailures()
        self.event_sources = EventSources(self.client)
        self.http_apis = HttpApis(self.client)
        self._server: Any = None
        self._session: Any = None
        self._client_lock = threading.Lock()
        self._inventory_clients: dict[str, Any] = {}
        self._patches = Patches()
        self._invoker: InProcessInvoker | None = None
        self.transport: transport.InProcessTransport | None = None
        self._saved_env: dict[str, str | None] = {}
        self._installed_environ = False
        self._installed_output = False
        self._saved_sfn_config: dict[str, Any] | None = None
        self._saved_log_levels: dict[str, int] = {}
        self._started = False

    # --- lifecycle ------------------------------------------------------------------------------

    @staticmethod
    def running() -> LocalAws | None:
        """The LocalAws started in this process, if any (there is at most one)."""
        with _ACTIVE_LOCK:
            return _ACTIVE

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalAws:
        global _ACTIVE
        with _ACTIVE_LOCK:
            if self._started:
                return self
            if _ACTIVE is not None:
                raise RuntimeError("another LocalAws is running in this process; stop it first")
            _ACTIVE = self
            self._started = True
        atexit.register(self.stop)  # a Ctrl-C or forgotten stop() still leaves nothing behind
        try:
            self._start_server()
            self._configure()
            self._install()
            self._set_environment()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Undo everything start() did; safe to call twice, and after a failed start. A signal
        that arrives meanwhile is raised once it is all undone (catalog.interrupts)."""
        with interrupts.deferred():
            self._stop()

    def _stop(self) -> None:
        global _ACTIVE
        with _ACTIVE_LOCK:
            if not self._started:
                return
            self._started = False
        atexit.unregister(self.stop)
        try:
            self._stop_server()
        finally:
            self._patches.undo_all()
            if self._invoker is not None:
                self._invoker.close()
                self._invoker = None
            self._restore_environment()
            self._restore_config()
            hooks.restore_loggers(self._saved_log_levels)
            self._saved_log_levels = {}
            self._session = None
            self._inventory_clients.clear()
            self.event_sources.reset()
            with _ACTIVE_LOCK:
                _ACTIVE = None

    def _start_server(self) -> None:
        # Imported here: moto's server pulls in Flask and every service (about 1.4 s).
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def _stop_server(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        # stop() returns only after serve_forever's next poll (every 0.5 s); a throwaway
        # connection wakes the poll at once.
        stopper = threading.Thread(target=server.stop, daemon=True)
        stopper.start()
        while stopper.is_alive():
            _poke(self.port)
            stopper.join(0.02)
        # ThreadedMotoServer.stop() ends serve_forever but leaves the socket bound and listening.
        inner = getattr(server, "_server", None)
        if inner is not None:
            inner.server_close()

    def _configure(self) -> None:
        from moto.core.config import default_user_config

        self._saved_sfn_config = dict(copy.deepcopy(default_user_config.get("stepfunctions", {})))
        self._saved_log_levels = hooks.quiet_loggers()
        # Config first, then a reset: switching Step Functions execution on later would hide
        # existing state machines, and a new LocalAws starts from an empty account.
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        self._post("/moto-api/reset", None)

    def _install(self) -> None:
        shims.install(self._patches)
        speedups.install(self._patches, self._server._server.app)
        self.failures.install(self._patches, self._server._server)
        # This process's clients skip the socket (catalog.localaws.transport); terraform keeps it.
        self.transport = transport.InProcessTransport(self._server._server.app, self.port)
        transport.install(self._patches, self.transport)
        # Late-bound lambdas: callers may replace the lists or flip the flag at any time.
        self._invoker = InProcessInvoker(self.faults, lambda call: self.invocations.append(call))
        hooks.install_invoker(self._patches, self._invoker)
        hooks.install_retry_clock(
            self._patches,
            lambda: self.record_retry_sleeps,
            lambda seconds: self.retry_sleeps.append(seconds),
        )
        self.executions.install(self._patches)

    def _restore_config(self) -> None:
        if self._saved_sfn_config is None:
            return
        from moto.core.config import default_user_config

        default_user_config["stepfunctions"] = self._saved_sfn_config  # type: ignore[typeddict-item]
        self._saved_sfn_config = None

    # --- environment ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables a subprocess (terraform) needs to reach this endpoint with fake credentials."""
        if not self._started:
            raise RuntimeError("LocalAws is not started")
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # Else botocore sends DynamoDB (Streams) to an account-specific host moto ignores.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def _set_environment(self) -> None:
        self._installed_environ = environ.install()
        self._installed_output = output.install()
        wanted: dict[str, str | None] = dict(self.env())
        # Step Functions calls Lambda at localhost:$MOTO_PORT (moto.settings.moto_server_port).
        wanted["MOTO_PORT"] = str(self.port)
        wanted.update(dict.fromkeys(_UNSET_WHILE_STARTED))
        for key, value in wanted.items():
            self._saved_env[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        if self._installed_environ:
            environ.uninstall()
            self._installed_environ = False
        if self._installed_output:
            output.uninstall()
            self._installed_output = False

    # --- clients and control --------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client bound to this endpoint with fake credentials."""
        if not self._started:
            raise RuntimeError("LocalAws is not started")
        from botocore.config import Config

        with self._client_lock:  # botocore sessions are not safe for concurrent client creation
            if self._session is None:
                import boto3

                self._session = boto3.session.Session(
                    aws_access_key_id=FAKE_ACCESS_KEY,
                    aws_secret_access_key=FAKE_SECRET_KEY,
                    region_name=self.region,
                )
            return self._session.client(
                service,
                endpoint_url=self.endpoint_url,
                # moto answers 500 for what it does not implement: fail fast, do not back off.
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            )

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> Settled:
        """Run every enabled event-source mapping until the stack is idle (see event_sources)."""
        if not self._started:
            raise RuntimeError("LocalAws is not started")
        return self.event_sources.settle(timeout)

    def reset(self) -> None:
        """Empty every service (config kept: Step Functions still executes); clear the
        faults, the invocation log, the recorded retry sleeps, the ended executions and the
        event-source positions; start functions cold."""
        self._post("/moto-api/reset", None)
        self.executions.clear()
        self.event_sources.reset()
        self.faults.clear()
        self.invocations.clear()
        self.retry_sleeps.clear()
        if self._invoker is not None:
            self._invoker.loader.forget_loaded()

    def inventory(self) -> dict[str, list[str]]:
        """Resource kind ("lambda:functions", ...) -> identifiers still present."""
        return inventory(self._inventory_client)

    def _inventory_client(self, service: str) -> Any:
        if service not in self._inventory_clients:
            self._inventory_clients[service] = self.client(service)
        return self._inventory_clients[service]

    def _post(self, path: str, body: dict[str, Any] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.endpoint_url + path, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def __repr__(self) -> str:
        state = "started" if self._started else "stopped"
        return f"LocalAws({self.region!r}, {state}, endpoint_url={self.endpoint_url!r})"


def _poke(port: int) -> None:
    """Open and abort a connection (RST, no TIME_WAIT left to hold the port)."""
    with contextlib.suppress(OSError):
        sock = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
