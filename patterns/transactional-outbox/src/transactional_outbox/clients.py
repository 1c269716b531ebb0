"""boto3 clients and environment settings shared by the functions.

Clients are created once per execution environment (warm invocations reuse them) and keyed by
region and endpoint, so the same code runs on AWS and on the embedded emulator in tests.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None], Any] = {}
# Standard retry mode retries throttling and 5xx with backoff; the handlers add their own retry
# only where a partial failure needs it (PutEvents entries).
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5)


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    key = (service, region, endpoint)
    with _lock:  # creating clients from one session is not thread-safe
        found = _clients.get(key)
        if found is None:
            session = boto3.session.Session(region_name=region)
            found = session.client(service, endpoint_url=endpoint, config=_CONFIG)
            _clients[key] = found
        return found


def setting(name: str) -> str:
    """A required environment variable (set by the IaC); a clear error when it is missing."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def int_setting(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default
