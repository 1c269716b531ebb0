"""Reusable Pulumi components for the catalog patterns.

Each component is a `pulumi.ComponentResource` configured by a frozen args dataclass that
validates itself (ValueError) when constructed. None of them sets `protect` or
`retain_on_delete`: by default nothing survives `pulumi destroy`; production turns on table
deletion protection with one argument.
"""

from ._validation import LOG_RETENTION_DAYS, PolicyStatement
from .function import DurableConfig, PythonFunction, PythonFunctionArgs
from .function_set import FunctionSet, FunctionSetArgs, FunctionSpec
from .layer import LambdaLayer, LambdaLayerArgs
from .pattern import PatternCore
from .settings import PatternSettings, pattern_settings
from .state_machine import StateMachine, StateMachineArgs
from .table import Table, TableArgs
from .table_set import TableSet, TableSetArgs, TableSpec

__all__ = [
    "LOG_RETENTION_DAYS",
    "DurableConfig",
    "FunctionSet",
    "FunctionSetArgs",
    "FunctionSpec",
    "LambdaLayer",
    "LambdaLayerArgs",
    "PatternCore",
    "PatternSettings",
    "PolicyStatement",
    "PythonFunction",
    "PythonFunctionArgs",
    "StateMachine",
    "StateMachineArgs",
    "Table",
    "TableArgs",
    "TableSet",
    "TableSetArgs",
    "TableSpec",
    "pattern_settings",
]
