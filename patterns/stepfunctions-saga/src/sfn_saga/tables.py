"""Access to the three DynamoDB tables, and the mapping of AWS failures to saga errors.

Table names come from the environment (ORDERS_TABLE, INVENTORY_TABLE, PAYMENTS_TABLE); the endpoint,
region and credentials come from the standard AWS environment variables, so the same code runs on
AWS and on an emulator.

Key schema (every table has a single string hash key):
- orders:    `order_id`
- inventory: `sku`        (attribute `stock`: number of units available)
- payments:  `idempotency_key` (`f"{order_id}:charge"`, see `payment_key`)
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from .errors import TransientError

ORDERS_TABLE_ENV = "ORDERS_TABLE"
INVENTORY_TABLE_ENV = "INVENTORY_TABLE"
PAYMENTS_TABLE_ENV = "PAYMENTS_TABLE"

# Error codes for which "try again later" is the right answer. Anything else is a bug or a business
# outcome and must not be retried blindly.
_TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# Cancellation reason codes of TransactWriteItems that mean "contention", not "condition false".
_TRANSIENT_CANCELLATION_CODES = frozenset(
    {"ProvisionedThroughputExceeded", "ThrottlingError", "TransactionConflict"}
)

_lock = threading.Lock()
# One resource per (region, endpoint): created once per execution environment and reused by warm
# invocations, yet still correct when a test points the environment at a fresh emulator.
_resources: dict[tuple[str | None, str | None], Any] = {}
_deserializer = TypeDeserializer()


def _resource() -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    key = (region, endpoint)
    with _lock:  # boto3 sessions are not thread-safe to create clients from
        resource = _resources.get(key)
        if resource is None:
            session = boto3.session.Session(region_name=region)
            resource = session.resource("dynamodb", endpoint_url=endpoint)
            _resources[key] = resource
        return resource


def reset_clients() -> None:
    """Forget cached resources (tests switch emulators between cases)."""
    with _lock:
        _resources.clear()


def table_name(env_name: str) -> str:
    name = os.environ.get(env_name)
    if not name:
        raise RuntimeError(f"environment variable {env_name} is not set")
    return name


def table(env_name: str) -> Any:
    """A boto3 `Table` for the table named by `env_name`."""
    return _resource().Table(table_name(env_name))


def client() -> Any:
    """The resource's low-level client: it still takes and returns plain Python values, it is the
    only way to call TransactWriteItems, and its `exceptions` are the modeled errors the resource
    raises (`except client().exceptions.ConditionalCheckFailedException`)."""
    return _resource().meta.client


def payment_key(order_id: str) -> str:
    """Idempotency key of an order's charge: derived from the order alone, so every retry of the
    charge step (and the refund step) finds the same payment record."""
    return f"{order_id}:charge"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def old_item(error: ClientError) -> dict[str, Any] | None:
    """The item returned with a failed condition (ReturnValuesOnConditionCheckFailure=ALL_OLD):
    it says why the condition failed without a separate read (and without GetItem permission)."""
    raw = error.response.get("Item")
    return deserialize(raw) if raw else None


def cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    """Cancellation reasons of TransactWriteItems, one per item in request order, with `Item`
    already converted to plain Python values."""
    reasons: list[dict[str, Any]] = []
    for reason in error.response.get("CancellationReasons", []) or []:
        entry = {"Code": reason.get("Code") or "None", "Message": reason.get("Message", "")}
        if reason.get("Item"):
            entry["Item"] = deserialize(reason["Item"])
        reasons.append(entry)
    return reasons


def deserialize(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def raise_if_transient(error: ClientError) -> None:
    """Turn throttling, contention and 5xx answers into TransientError; leave the rest alone."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _TRANSIENT_CODES or status >= 500:
        raise TransientError(f"DynamoDB {code or status}: {error}") from error
    if code == "TransactionCanceledException":
        codes = {reason["Code"] for reason in cancellation_reasons(error)}
        if codes & _TRANSIENT_CANCELLATION_CODES:
            raise TransientError(f"transaction cancelled by contention: {sorted(codes)}") from error


@contextlib.contextmanager
def transient_errors() -> Iterator[None]:
    """Wrap AWS calls: network failures and retryable answers leave as TransientError, so the
    state machine's Retry (which only matches TransientError) handles them."""
    try:
        yield
    except ClientError as error:
        raise_if_transient(error)
        raise
    except (AwsConnectionError, HTTPClientError) as error:  # unreachable, reset, timed out
        raise TransientError(f"AWS call failed: {error}") from error
