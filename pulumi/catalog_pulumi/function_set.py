"""The ordinary functions of one pattern: the Pulumi twin of terraform/modules/python-functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from ._validation import PolicyStatement, check_entries, check_name_prefix, check_pattern
from .function import PythonFunction, PythonFunctionArgs


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One function of a `FunctionSet`; the rest of its `PythonFunctionArgs` comes from the set."""

    description: str
    timeout: int = 10
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    policy_statements: Sequence[PolicyStatement] = ()
    layers: Sequence[pulumi.Input[str]] = ()
    publish: bool = False


@dataclass(frozen=True, kw_only=True)
class FunctionSetArgs:
    """Arguments of `FunctionSet`; invalid values raise ValueError when constructed (each
    function's own settings are checked by `PythonFunctionArgs`)."""

    name_prefix: str
    code_package: str  # the handler of <key>: "<code_package>.functions.<key, - as _>.handler"
    zips: Mapping[str, str | Path]  # short name -> built zip (catalog.packaging.build_pattern)
    service_name: str  # Powertools service name of every function
    functions: Mapping[str, FunctionSpec]
    log_retention_days: int = 14

    def __post_init__(self) -> None:
        check_name_prefix("name_prefix", self.name_prefix)
        check_pattern("code_package", self.code_package, r"[A-Za-z_][A-Za-z0-9_]*", "a package")
        check_entries(
            "functions", self.functions, FunctionSpec, r"[a-z][a-z0-9-]*",
            "lowercase letters, digits and hyphens (the zip's name)",
        )  # fmt: skip
        missing = sorted(set(self.functions) - set(self.zips))
        if missing:
            raise ValueError(f"functions {missing} have no built zip: build the pattern first")

    def function_args(self, key: str) -> PythonFunctionArgs:
        spec = self.functions[key]
        return PythonFunctionArgs(
            function_name=f"{self.name_prefix}-{key}",
            description=spec.description,
            handler=f"{self.code_package}.functions.{key.replace('-', '_')}.handler",
            code_path=self.zips[key],
            timeout=spec.timeout,
            service_name=self.service_name,
            environment=spec.environment,
            policy_statements=spec.policy_statements,
            log_retention_days=self.log_retention_days,
            layers=spec.layers,
            publish=spec.publish,
        )


class FunctionSet(pulumi.ComponentResource):
    """One `PythonFunction` per short name; names and log groups by short name."""

    functions: dict[str, PythonFunction]
    function_names: dict[str, pulumi.Output[str]]
    log_group_names: list[pulumi.Output[str]]  # in short-name order, as Terraform's output

    def __init__(
        self, name: str, args: FunctionSetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:FunctionSet", name, None, opts)
        self.functions = {
            key: PythonFunction(
                key, args.function_args(key), opts=pulumi.ResourceOptions(parent=self)
            )
            for key in args.functions
        }
        self.function_names = {key: fn.function_name for key, fn in self.functions.items()}
        self.log_group_names = [
            self.functions[key].log_group_name for key in sorted(self.functions)
        ]
        self.register_outputs({"function_names": self.function_names})
