"""The event-source mapping pollers of the embedded AWS (catalog.localaws.event_sources, streams,
queues, filters): the delivery model with fakes, then real mappings on a running LocalAws."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.localaws import LocalAws, SettleError
from catalog.localaws.event_sources import MappingActivity, invoke_batch
from catalog.localaws.filters import FilterCriteriaError, record_filter
from catalog.localaws.streams import StreamPoller, _Delivery

ARN = "arn:aws:lambda:us-east-1:123456789012:function:relay"
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/outbox/stream/2025-01-01T00:00:00.000"
DESTINATION = "arn:aws:sqs:us-east-1:123456789012:relay-failures"

# ================================================================ filter criteria (moto's matcher)


def _filters(*patterns: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_filter_criteria_use_the_full_event_pattern_grammar() -> None:
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"s": {"S": "abc"}}}}
    assert record_filter(None)(record)
    assert record_filter(_filters({"eventName": ["INSERT"]}))(record)
    assert not record_filter(_filters({"eventName": ["MODIFY", "REMOVE"]}))(record)
    assert record_filter(_filters({"dynamodb": {"NewImage": {"s": {"S": [{"prefix": "ab"}]}}}}))(
        record
    )
    assert record_filter(_filters({"dynamodb": {"OldImage": [{"exists": False}]}}))(record)
    assert record_filter(_filters({"eventName": [{"anything-but": ["REMOVE"]}]}))(record)
    # Filters are OR-ed; $or inside one pattern too.
    assert record_filter(_filters({"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}))(record)
    assert record_filter(_filters({"$or": [{"eventName": ["X"]}, {"eventName": ["INSERT"]}]}))(
        record
    )


def test_sqs_bodies_are_matched_by_their_json_fields() -> None:
    numeric = record_filter(_filters({"body": {"qty": [{"numeric": [">", 3]}]}}))
    assert numeric({"body": json.dumps({"qty": 5})})
    assert not numeric({"body": json.dumps({"qty": 2})})
    assert not numeric({"body": "not json"})
    assert record_filter(_filters({"body": [{"wildcard": "hello*"}]}))({"body": "hello world"})


def test_an_invalid_filter_is_refused() -> None:
    with pytest.raises(FilterCriteriaError):
        record_filter({"Filters": [{"Pattern": json.dumps({"eventName": "INSERT"})}]})


# ================================================================ the stream delivery model (fakes)


class FakeLambda:
    """Answers invocations with `behave(records) -> (payload, function_error)`."""

    def __init__(self, behave: Any) -> None:
        self.behave = behave
        self.batches: list[list[str]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        records = json.loads(Payload)["Records"]
        self.batches.append([r["dynamodb"]["SequenceNumber"] for r in records])
        payload, error = self.behave(records)
        answer: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(payload).encode())}
        if error:
            answer["FunctionError"] = "Unhandled"
        return answer


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append((QueueUrl, json.loads(MessageBody)))


class FakeStreams:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        return {"ShardIterator": json.dumps(kwargs.get("SequenceNumber"))}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        after = json.loads(ShardIterator)
        fresh = [
            r
            for r in self.records
            if after is None or int(r["dynamodb"]["SequenceNumber"]) > int(after)
        ]
        return {"Records": fresh, "NextShardIterator": None}


def _records(n: int, age: timedelta = timedelta(0)) -> list[dict[str, Any]]:
    created = datetime.now(UTC) - age
    return [
        {
            "eventID": f"e{i}",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": created,
                "Keys": {"id": {"S": f"k{i}"}},
                "NewImage": {"id": {"S": f"k{i}"}},
                "SequenceNumber": str(100 + i),
                "SizeBytes": 10,
                "StreamViewType": "NEW_IMAGE",
            },
        }
        for i in range(n)
    ]


def _mapping(**settings: Any) -> dict[str, Any]:
    return {
        "UUID": "u-1",
        "EventSourceArn": STREAM,
        "FunctionArn": ARN,
        "BatchSize": 10,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": -1,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": DESTINATION}},
        **settings,
    }


class Fakes:
    def __init__(self, behave: Any, records: list[dict[str, Any]] | None = None) -> None:
        self.function = FakeLambda(behave)
        self.sqs = FakeSqs()
        self.streams = FakeStreams(records or [])
        self.activity = MappingActivity("u-1", ARN, STREAM, "dynamodb")

    def client(self, service: str) -> Any:
        return {"lambda": self.function, "sqs": self.sqs, "dynamodbstreams": self.streams}[service]

    def deliver(self, records: list[dict[str, Any]], **settings: Any) -> None:
        _Delivery(self.client, _mapping(**settings), "shard-1", self.activity).deliver(records, 0)


def _ok(records: list[dict[str, Any]]) -> tuple[Any, bool]:
    return {"batchItemFailures": []}, False


def _poisoned(records: list[dict[str, Any]], poison: str, partial: bool) -> tuple[Any, bool]:
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    if poison not in sequences:
        return {"batchItemFailures": []}, False
    if partial and len(records) > 1:
        return {"batchItemFailures": [{"itemIdentifier": poison}]}, False
    return {"errorType": "PoisonRecordError", "errorMessage": "bad"}, True


def test_successful_batch_is_one_invocation() -> None:
    fakes = Fakes(_ok)
    fakes.deliver(_records(4))
    assert fakes.function.batches == [["100", "101", "102", "103"]]
    assert fakes.sqs.sent == [] and fakes.activity.invocations == 1


def test_partial_failure_retries_from_the_lowest_failed_record() -> None:
    answers = iter([({"batchItemFailures": [{"itemIdentifier": "102"}]}, False)])
    fakes = Fakes(lambda r: next(answers, _ok(r)))
    fakes.deliver(_records(4))
    assert fakes.function.batches == [["100", "101", "102", "103"], ["102", "103"]]


def test_function_error_bisects_and_parks_only_the_poison_record() -> None:
    fakes = Fakes(lambda r: _poisoned(r, "101", partial=False))
    fakes.deliver(_records(4))
    # [100-103] fails -> halves; [100,101] fails -> [100] ok, [101] retried twice then parked;
    # [102,103] ok. Splitting is not a retry.
    assert fakes.function.batches == [
        ["100", "101", "102", "103"],
        ["100", "101"],
        ["100"],
        ["101"],
        ["101"],
        ["101"],
        ["102", "103"],
    ]
    ((url, parked),) = fakes.sqs.sent
    assert url == "https://sqs/relay-failures"
    info = parked["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "101",
        "101",
        1,
    )
    assert info["streamArn"] == STREAM and info["shardId"] == "shard-1"
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["requestContext"]["approximateInvokeCount"] == 3
    assert parked["responseContext"]["functionError"] == "Unhandled"
    assert fakes.activity.discarded == [parked]


def test_without_bisect_the_whole_batch_is_retried_and_parked() -> None:
    fakes = Fakes(lambda r: _poisoned(r, "101", partial=False))
    fakes.deliver(_records(3), BisectBatchOnFunctionError=False, FunctionResponseTypes=[])
    assert fakes.function.batches == [["100", "101", "102"]] * 3  # at least once: 100 again
    info = fakes.sqs.sent[0][1]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("100", "102")


def test_partial_response_parks_the_range_from_the_poison_record() -> None:
    fakes = Fakes(lambda r: _poisoned(r, "101", partial=True))
    fakes.deliver(_records(4))
    assert fakes.function.batches[0] == ["100", "101", "102", "103"]
    assert fakes.function.batches[1:] == [["101", "102", "103"]] * 2
    ((_, parked),) = fakes.sqs.sent
    info = parked["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "101",
        "103",
        3,
    )


def test_records_older_than_the_maximum_age_are_parked_without_invoking() -> None:
    fakes = Fakes(_ok)
    fakes.deliver(_records(2, age=timedelta(minutes=5)), MaximumRecordAgeInSeconds=60)
    assert fakes.function.batches == []
    assert fakes.sqs.sent[0][1]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_without_a_destination_a_discarded_batch_is_skipped() -> None:
    fakes = Fakes(lambda r: ({"errorType": "Boom"}, True))
    fakes.deliver(_records(1), DestinationConfig=None, MaximumRetryAttempts=0)
    assert fakes.function.batches == [["100"]] and fakes.sqs.sent == []
    assert fakes.activity.discarded[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_unknown_item_identifier_fails_the_whole_batch() -> None:
    answers = iter([({"batchItemFailures": [{"itemIdentifier": "nope"}]}, False)])
    fakes = Fakes(lambda r: next(answers, _ok(r)))
    fakes.deliver(_records(2), BisectBatchOnFunctionError=False)
    assert fakes.function.batches == [["100", "101"], ["100", "101"]]


def test_partial_responses_are_ignored_without_report_batch_item_failures() -> None:
    fakes = Fakes(lambda r: ({"batchItemFailures": [{"itemIdentifier": "100"}]}, False))
    fakes.deliver(_records(2), FunctionResponseTypes=None)
    assert fakes.function.batches == [["100", "101"]]


def test_infinite_retries_are_bounded() -> None:
    fakes = Fakes(lambda r: ({"errorType": "Boom"}, True))
    with pytest.raises(SettleError, match="still failing"):
        fakes.deliver(_records(1), MaximumRetryAttempts=-1, BisectBatchOnFunctionError=False)


def test_poll_applies_the_filter_batch_size_and_position() -> None:
    records = _records(5)
    records[1]["eventName"] = "MODIFY"
    fakes = Fakes(_ok, records)
    poller = StreamPoller(fakes.client)
    mapping = _mapping(
        BatchSize=2, FilterCriteria=_filters({"eventName": ["INSERT"]}), StartingPosition=None
    )
    assert poller.poll(mapping, fakes.activity) is True
    assert fakes.function.batches == [["100", "102"], ["103", "104"]]
    assert fakes.activity.filtered_out == 1
    assert poller.poll(mapping, fakes.activity) is False  # nothing after the position
    records += _records(6)[5:]
    assert poller.poll(mapping, fakes.activity) is True
    assert fakes.function.batches[-1] == ["105"]


def test_latest_starts_after_what_is_already_there() -> None:
    fakes = Fakes(_ok, _records(3))
    poller = StreamPoller(fakes.client)
    mapping = _mapping(StartingPosition="LATEST")
    assert poller.poll(mapping, fakes.activity) is False
    fakes.streams.records += _records(4)[3:]
    assert poller.poll(mapping, fakes.activity) is True
    assert fakes.function.batches == [["103"]]


def test_invoke_batch_reads_partial_responses_like_lambda() -> None:
    def answer(payload: Any) -> Any:
        return FakeLambda(lambda r: (payload, False))

    def outcome(payload: Any, partial: bool = True) -> Any:
        activity = MappingActivity("u", ARN, STREAM, "sqs")
        event = {"Records": [{"dynamodb": {"SequenceNumber": s}} for s in ("a", "b")]}
        return invoke_batch(answer(payload), ARN, event, ["a", "b"], partial, activity)

    assert outcome(None).ok and outcome({"batchItemFailures": None}).ok
    assert outcome({"batchItemFailures": [{"itemIdentifier": "b"}]}).failed == {"b"}
    assert outcome({"batchItemFailures": [{"itemIdentifier": ""}]}).error == (
        "InvalidBatchItemFailures"
    )
    assert outcome({"batchItemFailures": [{"itemIdentifier": "b"}]}, partial=False).ok


# ================================================================ real mappings on the embedded AWS

CONSUMER = """\
import json


def handler(event, context):
    failed = []
    for record in event["Records"]:
        body = json.loads(record.get("body") or "{}")
        if body.get("poison"):
            failed.append({"itemIdentifier": record["messageId"]})
    if any(json.loads(r.get("body") or "{}").get("crash") for r in event["Records"]):
        raise RuntimeError("crash")
    return {"batchItemFailures": failed}
"""
RELAY = """\
def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"].startswith("poison"):
            raise ValueError("poison")
    return {}
"""


@pytest.fixture(autouse=True)
def _clean(aws: LocalAws) -> None:
    aws.reset()


def _queue(aws: LocalAws, name: str, **attributes: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _depth(aws: LocalAws, url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _bodies(aws: LocalAws, function: str) -> list[list[Any]]:
    return [
        [json.loads(r["body"]) for r in call.event["Records"]]
        for call in aws.invocations
        if call.function_name == function
    ]


def test_queue_partial_batch_failures_go_to_the_dlq_after_max_receive_count(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    dlq_url, dlq_arn = _queue(aws, "dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    url, arn = _queue(aws, "work", RedrivePolicy=redrive)
    make_function("consumer", CONSUMER)
    aws.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="consumer",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    sqs = aws.client("sqs")
    for n in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n, "poison": n == 4}))
    settled = aws.settle()
    (activity,) = settled.activity.values()
    # One batch of ten; the poison message alone is retried until its third receive.
    batches = _bodies(aws, "consumer")
    assert [len(b) for b in batches] == [10, 1, 1]
    assert all(b == [{"n": 4, "poison": True}] for b in batches[1:])
    assert (activity.invocations, activity.failed_invocations, activity.records) == (3, 3, 12)
    assert _depth(aws, url) == 0
    parked = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["n"] for m in parked] == [4]
    assert aws.settle().activity[activity.uuid].invocations == 0  # idle: nothing left


def test_queue_function_error_returns_the_whole_batch(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    dlq_url, dlq_arn = _queue(aws, "dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = _queue(aws, "work", RedrivePolicy=redrive)
    make_function("consumer", CONSUMER)
    aws.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", BatchSize=5
    )
    for n in range(3):
        aws.client("sqs").send_message(
            QueueUrl=url, MessageBody=json.dumps({"n": n, "crash": n == 1})
        )
    aws.settle()
    assert [len(b) for b in _bodies(aws, "consumer")] == [3, 3]  # at least once: 0 and 2 again
    assert _depth(aws, dlq_url) == 3 and _depth(aws, url) == 0


def test_queue_batching_window_filters_and_disabled_mappings(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    url, arn = _queue(aws, "work")
    make_function("consumer", CONSUMER)
    mapping = aws.client("lambda").create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="consumer",
        BatchSize=25,
        MaximumBatchingWindowInSeconds=5,
        FilterCriteria=_filters({"body": {"n": [{"numeric": [">=", 5]}]}}),
        Enabled=False,
    )
    sqs = aws.client("sqs")
    for n in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    assert aws.settle().activity == {}  # disabled: not polled
    assert _depth(aws, url) == 30
    aws.client("lambda").update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    activity = aws.settle().activity[mapping["UUID"]]
    batches = _bodies(aws, "consumer")
    # Batches gathered over several receives (window > 0); n < 5 deleted, never delivered.
    assert [len(b) for b in batches] == [20, 5]
    assert sorted(m["n"] for b in batches for m in b) == list(range(5, 30))
    assert activity.filtered_out == 5 and _depth(aws, url) == 0


def test_queue_without_a_dlq_that_never_succeeds_stops_the_settle(
    aws: LocalAws, make_function: Callable[..., str]
) -> None:
    url, arn = _queue(aws, "work")
    make_function("consumer", CONSUMER)
    aws.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer")
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"crash": True}))
    with pytest.raises(SettleError, match="no redrive policy"):
        aws.settle()


def _keys(aws: LocalAws, function: str) -> list[list[str]]:
    return [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in call.event["Records"]]
        for call in aws.invocations
        if call.function_name == function
    ]


def test_stream_mapping_delivers_committed_writes_only(
    aws: LocalAws, make_function: Callable[..., str], make_stream_table: Callable[[str], str]
) -> None:
    """The FIELD-NOTES trap: moto would fire before a transaction commits. A cancelled
    transaction leaves no record, so the function never sees its item."""
    stream = make_stream_table("outbox")
    make_function("relay", RELAY)
    aws.client("lambda").create_event_source_mapping(
        EventSourceArn=stream, FunctionName="relay", StartingPosition="TRIM_HORIZON"
    )
    dynamodb = aws.client("dynamodb")
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "taken"}})
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "outbox", "Item": {"pk": {"S": "cancelled"}}}},
                {
                    "Put": {
                        "TableName": "outbox",
                        "Item": {"pk": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "outbox", "Item": {"pk": {"S": "committed"}}}}]
    )
    assert aws.invocations == []  # nothing runs inline
    aws.settle()
    assert _keys(aws, "relay") == [["taken", "committed"]]


def test_stream_poison_record_is_bisected_out_and_its_position_parked(
    aws: LocalAws, make_function: Callable[..., str], make_stream_table: Callable[[str], str]
) -> None:
    stream = make_stream_table("outbox")
    failures_url, failures_arn = _queue(aws, "relay-failures")
    make_function("relay", RELAY)
    mapping = aws.client("lambda").create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="relay",
        StartingPosition="TRIM_HORIZON",
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
        FilterCriteria=_filters({"eventName": ["INSERT"]}),
    )
    dynamodb = aws.client("dynamodb")
    for key in ("a", "poison", "b", "c"):
        dynamodb.put_item(TableName="outbox", Item={"pk": {"S": key}})
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "a"}, "v": {"S": "2"}})  # MODIFY
    activity = aws.settle().activity[mapping["UUID"]]
    assert _keys(aws, "relay") == [
        ["a", "poison", "b", "c"],
        ["a", "poison"],
        ["a"],
        ["poison"],
        ["poison"],
        ["b", "c"],
    ]
    assert activity.filtered_out == 1
    (parked,) = aws.client("sqs").receive_message(QueueUrl=failures_url)["Messages"]
    info = json.loads(parked["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    # The position is kept: a later write is delivered alone.
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "d"}})
    aws.settle()
    assert _keys(aws, "relay")[-1] == ["d"]


def test_settle_needs_a_started_aws() -> None:
    stopped = LocalAws()
    with pytest.raises(RuntimeError, match="not started"):
        stopped.settle()
