"""The two functions in-process against moto (no Terraform): the message contract, partial batch
responses, the conditional transaction (a redelivered or redriven message applied once) and the
redrive function's move from the DLQ to the source queue."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from batch_units import READINGS, TOTALS, FakeLambdaContext, UnitAws
from botocore.exceptions import ClientError
from pydantic import ValidationError
from sqs_batch_processing import ledger, sdk
from sqs_batch_processing.functions import processor, redrive
from sqs_batch_processing.readings import ORIGINAL_ID_ATTRIBUTE, Reading


def body(sensor: str = "sensor-1", value: Any = "21.5", **extra: Any) -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "metric": "temperature",
        "value": value,
        "taken_at": "2026-01-15T08:00:00Z",
        **extra,
    }


def record(
    payload: Any, message_id: str | None = None, original: str | None = None, receives: int = 1
) -> dict[str, Any]:
    """An SQS record as Lambda delivers it."""
    attributes = {}
    if original is not None:
        attributes[ORIGINAL_ID_ATTRIBUTE] = {
            "stringValue": original,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": payload if isinstance(payload, str) else json.dumps(payload),
        "attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": "1768464000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1768464000001",
        },
        "messageAttributes": attributes,
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:unit-readings",
        "awsRegion": "us-east-1",
    }


def process(*records: dict[str, Any]) -> list[str]:
    """Run the processor on one batch; the message ids it reported as failed."""
    answer = processor.handler({"Records": list(records)}, FakeLambdaContext())
    return [f["itemIdentifier"] for f in answer["batchItemFailures"]]


def readings(aws: UnitAws) -> list[dict[str, Any]]:
    return aws.dynamodb.scan(TableName=READINGS)["Items"]


def totals(aws: UnitAws, sensor: str) -> tuple[int, Decimal]:
    item = aws.dynamodb.get_item(TableName=TOTALS, Key={"sensor_id": {"S": sensor}}).get("Item")
    if item is None:
        return 0, Decimal(0)
    return int(item["reading_count"]["N"]), Decimal(item["value_sum"]["N"])


# ---------------------------------------------------------------- the message contract


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": "warm"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "1e9"}, "value"),
        ({"metric": "colour"}, "metric"),
        ({"sensor_id": "bad id with spaces"}, "sensor_id"),
        ({"taken_at": "yesterday"}, "taken_at"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_reading_that_breaks_the_contract_is_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Reading.model_validate({**body(), **change})
    assert [e["loc"][0] for e in refused.value.errors()] == [field]


def test_numbers_and_decimal_strings_are_readings() -> None:
    assert Reading.model_validate(body(value=21.5)).value == Decimal("21.5")
    assert Reading.model_validate(body(value="-3.25")).value == Decimal("-3.25")


# ---------------------------------------------------------------- processor


def test_a_clean_batch_is_applied_once_each(unit_aws: UnitAws) -> None:
    batch = [record(body("sensor-a", f"{n}.5")) for n in range(10)]
    assert process(*batch) == []
    rows = readings(unit_aws)
    assert sorted(r["message_id"]["S"] for r in rows) == sorted(r["messageId"] for r in batch)
    assert totals(unit_aws, "sensor-a") == (10, Decimal("50.0"))


def test_only_the_poison_message_is_reported(unit_aws: UnitAws) -> None:
    batch = [record(body("sensor-b")) for _ in range(9)]
    poison, not_json = record(body("sensor-b", "warm")), record("{not json")
    assert sorted(process(*batch[:4], poison, *batch[4:], not_json)) == sorted(
        [poison["messageId"], not_json["messageId"]]
    )
    assert totals(unit_aws, "sensor-b") == (9, Decimal("193.5"))


def test_a_redelivered_message_changes_nothing(unit_aws: UnitAws) -> None:
    message = record(body("sensor-c", "4"))
    assert process(message) == []
    again = {**message, "attributes": {**message["attributes"], "ApproximateReceiveCount": "2"}}
    assert process(again) == []
    assert len(readings(unit_aws)) == 1
    assert totals(unit_aws, "sensor-c") == (1, Decimal(4))


def test_a_redriven_copy_is_keyed_on_the_first_delivery(unit_aws: UnitAws) -> None:
    first = record(body("sensor-d", "2"))
    assert process(first) == []
    copy = record(body("sensor-d", "2"), original=first["messageId"])
    assert process(copy) == []
    (row,) = readings(unit_aws)
    assert row["message_id"]["S"] == first["messageId"]
    assert row["delivery_message_id"]["S"] == first["messageId"]
    assert totals(unit_aws, "sensor-d") == (1, Decimal(2))
    # A redriven copy never applied before is applied, under the first delivery's id.
    parked_id = str(uuid.uuid4())
    assert process(record(body("sensor-d", "3"), original=parked_id)) == []
    assert {r["message_id"]["S"] for r in readings(unit_aws)} == {first["messageId"], parked_id}


def test_a_transient_failure_fails_that_record_only(
    unit_aws: UnitAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sdk.client("dynamodb")

    class Throttled:
        def transact_write_items(self, **request: Any) -> Any:
            sensor = request["TransactItems"][1]["Update"]["Key"]["sensor_id"]["S"]
            if sensor == "sensor-hot":
                error = {"Error": {"Code": "ProvisionedThroughputExceededException"}}
                raise ClientError(error, "TransactWriteItems")
            return real.transact_write_items(**request)

    hot, cool = record(body("sensor-hot")), record(body("sensor-cool"))
    with monkeypatch.context() as throttled:
        throttled.setattr(ledger.sdk, "client", lambda service: Throttled())
        assert process(hot, cool) == [hot["messageId"]]
    assert process(hot) == []  # the retry, once the table accepts writes again
    assert totals(unit_aws, "sensor-hot") == (1, Decimal("21.5"))
    assert totals(unit_aws, "sensor-cool") == (1, Decimal("21.5"))


def test_a_batch_that_fails_entirely_is_a_function_error(
    unit_aws: UnitAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Powertools raises when every record failed: Lambda then returns the whole batch, which
    is what a partial response naming every record would do."""
    monkeypatch.delenv("SENSOR_TOTALS_TABLE")
    with pytest.raises(BatchProcessingError, match="SENSOR_TOTALS_TABLE is not set"):
        process(record(body()), record(body()))
    assert readings(unit_aws) == []


# ---------------------------------------------------------------- redrive


def park(aws: UnitAws, *bodies: Any, attributes: dict[str, Any] | None = None) -> list[str]:
    ids = []
    for item in bodies:
        sent = aws.sqs.send_message(
            QueueUrl=aws.dlq_url, MessageBody=json.dumps(item), MessageAttributes=attributes or {}
        )
        ids.append(sent["MessageId"])
    return ids


def drain(aws: UnitAws, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while page := aws.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += page
        for message in page:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_redrive_moves_every_parked_message_with_its_first_id(unit_aws: UnitAws) -> None:
    ids = park(unit_aws, *[body(f"sensor-{n}") for n in range(23)])
    label = {"source": {"DataType": "String", "StringValue": "gateway-7"}}
    (relabelled,) = park(unit_aws, body("sensor-x"), attributes=label)
    answer = redrive.handler({}, FakeLambdaContext())
    assert answer == {"moved": 24, "failed": [], "left": 0}
    moved = drain(unit_aws, unit_aws.source_url)
    originals = sorted(m["MessageAttributes"][ORIGINAL_ID_ATTRIBUTE]["StringValue"] for m in moved)
    assert originals == sorted([*ids, relabelled])
    (kept,) = [m for m in moved if "source" in m["MessageAttributes"]]
    assert kept["MessageAttributes"]["source"]["StringValue"] == "gateway-7"
    assert drain(unit_aws, unit_aws.dlq_url) == []


def test_redrive_keeps_the_id_of_the_first_delivery(unit_aws: UnitAws) -> None:
    first = {ORIGINAL_ID_ATTRIBUTE: {"DataType": "String", "StringValue": "first-delivery-id"}}
    park(unit_aws, body(), attributes=first)
    assert redrive.handler({}, FakeLambdaContext())["moved"] == 1
    (moved,) = drain(unit_aws, unit_aws.source_url)
    assert moved["MessageAttributes"][ORIGINAL_ID_ATTRIBUTE]["StringValue"] == "first-delivery-id"


def test_redrive_stops_at_max_messages(unit_aws: UnitAws) -> None:
    park(unit_aws, *[body(f"sensor-{n}") for n in range(7)])
    assert redrive.handler({"max_messages": 5}, FakeLambdaContext())["moved"] == 5
    assert len(drain(unit_aws, unit_aws.source_url)) == 5


def test_a_message_with_no_room_for_the_id_stays_parked(unit_aws: UnitAws) -> None:
    full = {f"a{n}": {"DataType": "String", "StringValue": str(n)} for n in range(10)}
    (stuck,) = park(unit_aws, body(), attributes=full)
    park(unit_aws, body("sensor-ok"))
    answer = redrive.handler({}, FakeLambdaContext())
    assert answer["moved"] == 1
    assert answer["failed"] == [{"message_id": stuck, "reason": "too many attributes"}]
    assert len(drain(unit_aws, unit_aws.source_url)) == 1


@pytest.mark.parametrize("event", [{"max_messages": 0}, {"max_messages": "all"}, {"limit": 3}])
def test_redrive_refuses_a_bad_request(unit_aws: UnitAws, event: dict[str, Any]) -> None:
    park(unit_aws, body())
    with pytest.raises(ValidationError):
        redrive.handler(event, FakeLambdaContext())
    assert len(drain(unit_aws, unit_aws.dlq_url)) == 1  # nothing moved
