"""What every pattern's program declares the same way: the Pulumi twin of
terraform/pattern-root/catalog.tf (its tables, its ordinary functions, the outputs about them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from .function_set import FunctionSet, FunctionSetArgs, FunctionSpec
from .settings import PatternSettings
from .table_set import TableSet, TableSetArgs, TableSpec


class PatternCore:
    """The settings one pattern passes to all its tables and functions, given once.

    `tables` and `functions` each declare their set once (tables first: function specs usually
    name the tables); `outputs` are `table_names`, `function_names` (with the others given) and
    `log_group_names` (the functions' groups in short-name order, then the others given).
    """

    def __init__(
        self,
        settings: PatternSettings,
        *,
        code_package: str,  # the pattern's package in src/
        service_name: str,  # its Powertools service name
        zips: Mapping[str, str | Path],  # short name -> built zip
    ) -> None:
        self.settings = settings
        self.code_package = code_package
        self.service_name = service_name
        self.zips = zips
        self._tables: TableSet | None = None
        self._functions: FunctionSet | None = None

    def tables(self, specs: Mapping[str, TableSpec]) -> TableSet:
        _first("tables", self._tables)
        self._tables = TableSet(
            "tables",
            TableSetArgs(
                name_prefix=self.settings.name_prefix,
                tables=specs,
                deletion_protection=self.settings.deletion_protection,
            ),
        )
        return self._tables

    def functions(self, specs: Mapping[str, FunctionSpec]) -> FunctionSet:
        _first("functions", self._functions)
        self._functions = FunctionSet(
            "functions",
            FunctionSetArgs(
                name_prefix=self.settings.name_prefix,
                code_package=self.code_package,
                zips=self.zips,
                service_name=self.service_name,
                functions=specs,
                log_retention_days=self.settings.log_retention_days,
            ),
        )
        return self._functions

    def outputs(
        self,
        other_function_names: Mapping[str, pulumi.Input[str]] | None = None,
        other_log_group_names: Sequence[pulumi.Input[str]] = (),
    ) -> dict[str, Any]:
        """`other_function_names`: functions the program declares itself (a durable
        orchestrator); `other_log_group_names`: the groups of anything else it declares."""
        if self._tables is None or self._functions is None:
            raise ValueError("declare the pattern's tables and functions before its outputs")
        return {
            "table_names": self._tables.names,
            "function_names": {**self._functions.function_names, **(other_function_names or {})},
            "log_group_names": [*self._functions.log_group_names, *other_log_group_names],
        }


def _first(what: str, declared: object) -> None:
    if declared is not None:
        raise ValueError(f"the pattern's {what} are declared once")
