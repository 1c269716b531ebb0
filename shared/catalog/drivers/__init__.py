"""Scenario drivers: how a scenario runs against a deployed pattern, one module per kind.

A pattern names its kind in metadata (`catalog.driver.kind`); the module `catalog.drivers.<kind>`
exposes `run_scenario(ctx, scenario) -> ScenarioResult`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .base import DriverContext, DriverError, ScenarioResult, StepRecord

__all__ = ["DriverContext", "DriverError", "ScenarioResult", "StepRecord", "get_driver"]

RunScenario = Callable[..., ScenarioResult]


def get_driver(kind: str) -> RunScenario:
    if not kind.isidentifier():
        raise DriverError(f"driver kind {kind!r} is not a module name")
    try:
        module = importlib.import_module(f"{__name__}.{kind}")
    except ModuleNotFoundError as exc:
        raise DriverError(f"no driver for kind {kind!r} (catalog.drivers.{kind})") from exc
    return module.run_scenario
