"""Amazon DynamoDB access shared by the functions, and the mapping of AWS failures to errors.

Each function learns the table it may use from its environment (ORDERS_TABLE for the orchestrator,
INVENTORY_TABLE for the inventory worker, PAYMENTS_TABLE for the payment worker). Region, endpoint
and credentials come from the standard AWS variables, so the same code runs on AWS and on an
emulator.

Key schema (a single string hash key per table):
- orders:    `order_id`
- inventory: `sku`; stock rows carry `stock`, reservation rows use `sku = "reservation#<order id>"`
  (SKUs are upper case, so the two can never collide)
- payments:  `idempotency_key`
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError
from botocore.retries.standard import RetryContext, StandardRetryConditions

from .errors import TransientError

ORDERS_TABLE = "ORDERS_TABLE"
INVENTORY_TABLE = "INVENTORY_TABLE"
PAYMENTS_TABLE = "PAYMENTS_TABLE"

# botocore's own judgement of a retryable answer (throttling, 5xx, timeouts), plus DynamoDB's
# transaction contention: a condition that was false is a business outcome, never retried.
_RETRYABLE = StandardRetryConditions()
_CONTENTION = frozenset(
    {
        "TransactionConflictException",
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)


@functools.cache
def _resource_for(region: str | None, endpoint: str | None) -> Any:
    # One resource per (region, endpoint), reused by warm invocations, yet still right when a
    # test points the environment at another emulator. A session of its own: thread-safe.
    return boto3.session.Session(region_name=region).resource("dynamodb", endpoint_url=endpoint)


def _resource() -> Any:
    return _resource_for(
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL"),
    )


def reset_clients() -> None:
    """Forget cached resources (tests switch emulators between cases)."""
    _resource_for.cache_clear()


def table(env_name: str) -> Any:
    """The boto3 `Table` named by the environment variable `env_name`."""
    name = os.environ.get(env_name)
    if not name:
        raise RuntimeError(f"environment variable {env_name} is not set")
    return _resource().Table(name)


def client() -> Any:
    """Low-level client of the same resource (TransactWriteItems lives only there)."""
    return _resource().meta.client


def now() -> str:
    """Wall-clock timestamp. In the orchestrator, call it only inside a step."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_condition_failure(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


def is_transaction_cancelled(error: ClientError) -> bool:
    return error_code(error) == "TransactionCanceledException"


def cancellation_codes(error: ClientError) -> list[str]:
    """TransactWriteItems cancellation reason codes, one per item in request order."""
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code") or "None") for reason in reasons]


def _is_retryable(error: ClientError) -> bool:
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if status >= 500 or error_code(error) in _CONTENTION:
        return True
    if _CONTENTION & set(cancellation_codes(error)):
        return True
    model = client().meta.service_model.operation_model(error.operation_name)
    context = RetryContext(attempt_number=1, operation_model=model, parsed_response=error.response)
    return bool(_RETRYABLE.is_retryable(context))


@contextlib.contextmanager
def transient_errors() -> Iterator[None]:
    """Network failures and retryable answers leave as `TransientError`; the rest unchanged."""
    try:
        yield
    except ClientError as error:
        if _is_retryable(error):
            raise TransientError(f"DynamoDB {error_code(error) or 'error'}") from error
        raise
    except (AwsConnectionError, HTTPClientError) as error:
        raise TransientError(f"DynamoDB unreachable: {error}") from error


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: make a JSON-friendly copy (ints stay ints)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == value.to_integral_value() else float(value)
    return value
