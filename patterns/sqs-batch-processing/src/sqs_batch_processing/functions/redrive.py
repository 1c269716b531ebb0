"""redrive: moves parked messages from the dead-letter queue back to the source queue, once the
cause of their failure is fixed (an operator runs it: `aws lambda invoke`).

Receive from the DLQ, send to the source queue, then delete from the DLQ: a message is deleted only
after the source queue accepted it, so nothing is lost; a crash between the two leaves a copy in
both, which the processor applies once (the copy carries `OriginalMessageId`, its idempotency
key). SQS's own StartMessageMoveTask does the move too, but it is not available on the embedded
AWS the catalog tests on, and this function carries the first delivery's id explicitly. A message
that fails again returns to the DLQ after maxReceiveCount receives, ready for the next redrive.

Input: {"max_messages": N} (1-10000, default 1000). Answer: {"moved": n, "failed": [...], "left":
the DLQ's approximate depth afterwards}.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .. import sdk
from ..readings import ORIGINAL_ID_ATTRIBUTE

DLQ_URL_ENV = "DLQ_URL"
SOURCE_QUEUE_URL_ENV = "SOURCE_QUEUE_URL"
RECEIVE_LIMIT = 10  # per ReceiveMessage / SendMessageBatch / DeleteMessageBatch call
MESSAGE_ATTRIBUTE_LIMIT = 10  # SQS allows 10 message attributes per message
IN_FLIGHT_SECONDS = 60  # hidden from other receivers while this function moves it
EMPTY_RECEIVES = 3  # short polling can miss messages a depth still counts: try a few times

logger = Logger()


class RedriveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(default=1000, ge=1, le=10_000)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event or {}, model=RedriveRequest)
    sqs = sdk.client("sqs")
    dlq, source = sdk.required_env(DLQ_URL_ENV), sdk.required_env(SOURCE_QUEUE_URL_ENV)
    moved, failed, empty = 0, [], 0
    while moved + len(failed) < request.max_messages and empty < EMPTY_RECEIVES:
        messages = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=min(RECEIVE_LIMIT, request.max_messages - moved - len(failed)),
            VisibilityTimeout=IN_FLIGHT_SECONDS,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            empty = EMPTY_RECEIVES if _depth(sqs, dlq) == 0 else empty + 1
            continue
        sent, refused = _send_back(sqs, source, messages)
        if sent:
            sqs.delete_message_batch(
                QueueUrl=dlq,
                Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in sent],
            )
        moved += len(sent)
        failed += refused
    left = _depth(sqs, dlq)
    logger.info("redrive done", extra={"moved": moved, "failed": len(failed), "left": left})
    return {"moved": moved, "failed": failed, "left": left}


def _send_back(
    sqs: Any, source: str, messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Send each message to the source queue with its attributes and the first delivery's id;
    returns the messages the queue accepted and the ids it (or the attribute limit) refused."""
    entries, refused = {}, []
    for message in messages:
        attributes = {
            name: {
                k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        attributes.setdefault(
            ORIGINAL_ID_ATTRIBUTE, {"DataType": "String", "StringValue": message["MessageId"]}
        )
        if len(attributes) > MESSAGE_ATTRIBUTE_LIMIT:
            refused.append({"message_id": message["MessageId"], "reason": "too many attributes"})
            continue
        entries[message["MessageId"]] = {
            "Id": message["MessageId"],
            "MessageBody": message["Body"],
            "MessageAttributes": attributes,
        }
    if not entries:
        return [], refused
    answer = sqs.send_message_batch(QueueUrl=source, Entries=list(entries.values()))
    accepted = {entry["Id"] for entry in answer.get("Successful", [])}
    refused += [
        {"message_id": entry["Id"], "reason": entry.get("Code", "refused")}
        for entry in answer.get("Failed", [])
    ]
    return [m for m in messages if m["MessageId"] in accepted], refused


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
