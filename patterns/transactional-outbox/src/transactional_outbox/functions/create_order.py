"""create-order: POST /orders behind an HTTP API (payload format 2.0).

- Powertools event handler (`APIGatewayHttpResolver`) routes the request to `post_order` and turns
  the exceptions below into the documented error responses; anything else is a function error,
  which API Gateway answers 500. No CORS: callers sign their requests (IAM), browsers do not call it.
- The body is parsed into `CreateOrderRequest` (Pydantic); a bad header or body is answered 400
  with the reasons and nothing is written.
- With an `Idempotency-Key` header the write runs through Powertools idempotency (DynamoDB, TTL):
  the same key and body return the first response (header `Idempotent-Replayed: true`); the same key
  with another body is answered 422; the same key while the first request still runs, 409.
- The order and its outbox record are written in one transaction (see orders.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import clients, http, orders
from ..models import CreateOrderRequest

# Service name and level from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the IaC).
logger = Logger()
app = APIGatewayHttpResolver()

persistence = DynamoDBPersistenceLayer(
    table_name=clients.setting("IDEMPOTENCY_TABLE"), boto3_client=clients.client("dynamodb")
)


def _mark_replayed(response: dict[str, Any], record: DataRecord) -> dict[str, Any]:
    # Called only when the stored response is returned instead of running the function again.
    return {**response, "replayed": True}


config = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    # Same key, different body: IdempotencyValidationError instead of a silent replay.
    payload_validation_jmespath="order",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=clients.int_setting("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
    response_hook=_mark_replayed,
)


# key_prefix: the stored key must not depend on the module path the runtime imported us under.
@idempotent_function(
    data_keyword_argument="request",
    persistence_store=persistence,
    config=config,
    key_prefix="create-order",
)
def create_once(request: dict[str, Any]) -> dict[str, Any]:
    order = CreateOrderRequest.model_validate(request["order"])
    written = orders.create_order(order, request["idempotency_key"])
    return {"body": written.body(), "replayed": written.replayed}


@app.post("/orders")
def post_order() -> Response[dict[str, Any]]:
    event = app.current_event
    key = http.idempotency_key(event.headers.get(http.IDEMPOTENCY_HEADER))
    order = http.parse_body(CreateOrderRequest, http.body_text(event.body, event.is_base64_encoded))
    logger.append_keys(idempotency_key=key)
    if key is None:
        written = orders.create_order(order, None)
        outcome = {"body": written.body(), "replayed": written.replayed}
    else:
        outcome = create_once(
            request={"idempotency_key": key, "order": order.model_dump(mode="json")}
        )
    body = outcome["body"]
    logger.info(
        "order accepted",
        extra={"order_id": body["order_id"], "replayed": bool(outcome.get("replayed"))},
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.get("replayed") else {}
    return http.response(201, body, headers)


@app.exception_handler(http.BadRequest)
def bad_request(exc: http.BadRequest) -> Response[dict[str, Any]]:
    logger.info("request rejected", extra={"reason": str(exc), "errors": exc.errors})
    return http.error(400, "ValidationError", str(exc), errors=exc.errors)


@app.exception_handler([IdempotencyValidationError, orders.OrderConflictError])
def key_reused(exc: Exception) -> Response[dict[str, Any]]:
    logger.warning("idempotency key reused with a different body")
    return http.error(
        422,
        "IdempotencyKeyReused",
        "this Idempotency-Key was already used with a different request body",
    )


@app.exception_handler(IdempotencyAlreadyInProgressError)
def in_progress(exc: IdempotencyAlreadyInProgressError) -> Response[dict[str, Any]]:
    return http.error(
        409, "RequestInProgress", "a request with this Idempotency-Key is still in progress"
    )


@app.exception_handler([orders.TransientWriteError, IdempotencyPersistenceLayerError])
def unavailable(exc: Exception) -> Response[dict[str, Any]]:
    logger.warning("temporarily unavailable", extra={"reason": str(exc)})
    return http.error(503, "ServiceUnavailable", "try again with the same Idempotency-Key")


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # In-progress records expire with this invocation's remaining time, not after the full TTL.
    config.register_lambda_context(context)
    return app.resolve(event, context)
