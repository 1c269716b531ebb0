"""Structured JSON logging shared by every function."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

SERVICE = "stepfunctions-saga"


def make_logger() -> Logger:
    # POWERTOOLS_SERVICE_NAME (set by the IaC) wins; the default keeps local runs readable.
    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)
