"""The speed patches change no answer: a cancelled transaction rolls back exactly what it wrote
(items and stream records), an expired SQS message is still dropped, every service is still
found; and they remove the work that grew with the account."""

from __future__ import annotations

import pytest

from catalog.localaws import LocalAws
from catalog.localaws.speedups import table_backup

TABLE = "speed-t"


@pytest.fixture(scope="module")
def table(aws: LocalAws) -> str:
    aws.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return TABLE


def _backend(aws: LocalAws) -> object:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][aws.region]


def _stream_records(aws: LocalAws) -> list[dict[str, object]]:
    streams = aws.client("dynamodbstreams")
    (stream,) = streams.list_streams(TableName=TABLE)["Streams"]
    description = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream["StreamArn"],
        ShardId=description["Shards"][0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_a_cancelled_transaction_rolls_back_items_and_stream_records(
    aws: LocalAws, table: str
) -> None:
    dynamodb = aws.client("dynamodb")
    for key in ("kept", "updated", "deleted"):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": "1"}})
    items_before = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    records_before = _stream_records(aws)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}, "n": {"N": "9"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "updated"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "deleted"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "kept"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    after = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    assert sorted(after, key=str) == sorted(items_before, key=str)
    assert _stream_records(aws) == records_before
    # A committed one still writes, and its stream records follow the old ones.
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}, "n": {"N": "9"}}}},
        ]
    )
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "new"}})["Item"]["n"] == {"N": "9"}
    assert len(_stream_records(aws)) == len(records_before) + 1


def test_the_backup_copies_only_the_named_items(aws: LocalAws, table: str) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    # Its own items: under xdist the other tests of this module may run on another worker.
    for key in ("kept", "updated"):
        aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": key}})
    live = _backend(aws).tables[table]  # type: ignore[attr-defined]
    named, other = DynamoType({"S": "kept"}), DynamoType({"S": "updated"})
    backup = table_backup(live, {named})
    assert backup.items[named] is not live.items[named]
    assert backup.items[named].attrs == live.items[named].attrs
    assert backup.items[other] is live.items[other]  # shared: the transaction never touches it
    assert backup.stream_shard.items == live.stream_shard.items
    assert backup.stream_shard.items is not live.stream_shard.items
    assert backup.stream_shard.table is backup


def test_an_expired_message_is_still_dropped(aws: LocalAws) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="speed-q", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="fresh")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][aws.region].queues["speed-q"]
    old = next(m for m in queue._messages if m.body == "old")
    old.sent_timestamp -= 61_000  # sent 61 s ago, retention 60 s
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert bodies == ["fresh"]


def test_every_service_is_still_found(aws: LocalAws, table: str) -> None:
    url = aws.client("sqs").create_queue(QueueName="speed-found")["QueueUrl"]
    for _ in range(2):  # the second lookup of each host comes from the kept answers
        assert aws.client("sts").get_caller_identity()["Account"]
        assert url in aws.client("sqs").list_queues()["QueueUrls"]
        assert table in aws.client("dynamodb").list_tables()["TableNames"]
        assert aws.client("lambda").list_functions()["Functions"] == []
