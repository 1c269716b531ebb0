"""The tables of one pattern, by role: the Pulumi twin of terraform/modules/dynamodb-tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ._validation import check_entries, check_name_prefix
from .table import Table, TableArgs

_ROLE = r"[a-z0-9_-]{1,64}"


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """One table of a `TableSet`: its string partition key, optional TTL attribute and stream."""

    hash_key: str
    ttl_attribute: str | None = None
    stream_view_type: str | None = None  # None: no stream


@dataclass(frozen=True, kw_only=True)
class TableSetArgs:
    """Arguments of `TableSet`; invalid values raise ValueError when constructed (the tables'
    own attributes are checked by `TableArgs`)."""

    name_prefix: str
    tables: Mapping[str, TableSpec]  # role -> table, named "<name_prefix>-<role>"
    deletion_protection: bool = False  # False so demos destroy cleanly; True in production

    def __post_init__(self) -> None:
        check_name_prefix("name_prefix", self.name_prefix)
        check_entries(
            "tables", self.tables, TableSpec, _ROLE, "1-64 lowercase letters, digits, - or _"
        )

    def table_args(self, role: str) -> TableArgs:
        """The `Table` of `role`: underscores in the role become hyphens in its names."""
        spec = self.tables[role]
        return TableArgs(
            name=f"{self.name_prefix}-{role.replace('_', '-')}",
            hash_key=spec.hash_key,
            ttl_attribute=spec.ttl_attribute,
            stream_view_type=spec.stream_view_type,
            deletion_protection=self.deletion_protection,
        )


class TableSet(pulumi.ComponentResource):
    """One `Table` per role, all with the same deletion protection; names and ARNs by role."""

    tables: dict[str, Table]
    names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]
    stream_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: TableSetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:TableSet", name, None, opts)
        self.tables = {
            role: Table(
                role.replace("_", "-"),
                args.table_args(role),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in args.tables
        }
        self.names = {role: table.name for role, table in self.tables.items()}
        self.arns = {role: table.arn for role, table in self.tables.items()}
        self.stream_arns = {role: table.stream_arn for role, table in self.tables.items()}
        self.register_outputs({"names": self.names, "arns": self.arns})
