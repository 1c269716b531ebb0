"""Patches that make stock moto 5.2.5 cheaper without changing a single answer.

Each removes work whose cost grows with what the account holds, so a suite of 1,000 runs on one
deployed stack stays linear instead of quadratic; each is undone on stop and has a test in
tests/tooling/test_localaws_speedups.py.

- DynamoDB TransactWriteItems backs up every table it touches with `copy.deepcopy(table)` (every
  item and every stream record) before the first write, in case it must roll back. The backup now
  deep-copies only the items at the keys the transaction names, shares the rest (a transaction
  changes nothing else) and copies the stream shard's record list: a rollback restores the same
  items and drops the same stream records.
- SQS ReceiveMessage asks for the queue's MessageRetentionPeriod once per message through
  GetQueueAttributes, which builds every attribute (counting the queue's messages) three times;
  the retention period is now read from the queue.
- The server looks up the backend of a request's host by listing moto's package folder (about
  150 stat calls) on every request; the answer depends on the host only and is kept.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from .patching import Patches

# Table name -> hash key values the running transaction names (set while it runs).
_TOUCHED: ContextVar[dict[str, set[Any]] | None] = ContextVar("catalog_touched", default=None)


def install(patches: Patches, app: Any) -> None:
    _install_transaction_backup_of_touched_items(patches)
    _install_sqs_retention_from_queue(patches)
    _install_backend_lookup_kept(patches, app)


# --- DynamoDB: a transaction backs up the items it names ----------------------------------------


class _BackupCopy:
    """Stands in for the `copy` module inside moto.dynamodb.models: while a transaction runs,
    the deep copy of a Table is a backup of the items the transaction names."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        touched = _TOUCHED.get()
        if touched is None or type(value) is not Table:
            return copy.deepcopy(value, memo)
        return table_backup(value, touched.get(value.name, set()))


def table_backup(table: Any, hash_values: set[Any]) -> Any:
    """What `copy.deepcopy(table)` holds for a rollback, copying only the items under
    `hash_values` (all range items of a hash key) and the stream shard's record list."""
    backup = copy.copy(table)
    backup.items = defaultdict(dict, table.items)
    for value in hash_values:
        if value in table.items:
            backup.items[value] = copy.deepcopy(table.items[value])
    shard = table.stream_shard
    if shard is not None:
        backup.stream_shard = copy.copy(shard)
        backup.stream_shard.items = list(shard.items)
        backup.stream_shard.table = backup
    return backup


def _hash_values(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, set[Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched: dict[str, set[Any]] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            attributes = op.get("Item") if op_type == "Put" else op.get("Key")
            value = (attributes or {}).get(table.hash_key_attr)
            if value is not None:
                touched.setdefault(table.name, set()).add(DynamoType(value))
    return touched


def _install_transaction_backup_of_touched_items(patches: Patches) -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        token = _TOUCHED.set(_hash_values(self, transact_items))
        try:
            return original(self, transact_items)
        finally:
            _TOUCHED.reset(token)

    patches.set(models, "copy", _BackupCopy())
    patches.set(DynamoDBBackend, "transact_write_items", transact_write_items)


# --- SQS: the retention period of a received message --------------------------------------------


def _install_sqs_retention_from_queue(patches: Patches) -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    patches.set(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        is_message_valid_based_on_retention_period,
    )


# --- the server: the backend of a host ----------------------------------------------------------


def _install_backend_lookup_kept(patches: Patches, app: Any) -> None:
    lookup: Callable[[str | None], Any] = app.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(host: str | None) -> Any:
        if host not in known:
            known[host] = lookup(host)
        return known[host]

    patches.set(app, "get_backend_for_host", get_backend_for_host)
