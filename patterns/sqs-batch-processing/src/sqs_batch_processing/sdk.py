"""boto3 clients, one per service and execution environment: warm invocations reuse them.

boto3 reads the endpoint (AWS_ENDPOINT_URL*) and Region from the environment, so the same code
runs on AWS and on the embedded AWS of the tests. Standard retry mode retries throttling and 5xx
with backoff before a record is reported as failed.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

RETRIES = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5)


@functools.cache
def client(service: str) -> Any:
    return boto3.client(service, config=RETRIES)


def required_env(name: str) -> str:
    """An environment variable the IaC sets; a clear error when it is missing."""
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value
