"""Every resource of the SQS batch processing pattern, as in ../terraform/main.tf (same names,
settings, least-privilege statements and outputs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi_aws as aws

from catalog_pulumi import FunctionSpec, PatternCore, PatternSettings, PolicyStatement, TableSpec

# The processor's settings. The source queue hides a message for 6 x the function timeout while a
# batch is processed, as Lambda recommends for SQS sources.
PROCESSOR_TIMEOUT = 30
MAX_RECEIVE_COUNT = 3
BATCH_SIZE = 10
BATCHING_WINDOW = 2
MAXIMUM_CONCURRENCY = 5
TABLES = {"readings": "message_id", "sensor_totals": "sensor_id"}  # table key -> partition key
FUNCTIONS = {  # short name -> (description, timeout)
    "processor": (
        "Source queue -> DynamoDB: applies each reading once, reports partial batch failures.",
        PROCESSOR_TIMEOUT,
    ),
    "redrive": (
        "Dead-letter queue -> source queue: moves parked readings back once the cause is fixed.",
        300,
    ),
}


class BatchProcessingStack:
    def __init__(self, settings: PatternSettings, zips: Mapping[str, Path]) -> None:
        prefix = settings.name_prefix
        self.pattern = PatternCore(
            settings,
            code_package="sqs_batch_processing",
            service_name="sqs-batch-processing",
            zips=zips,
        )

        # ------------------------------------------------------------ queues
        self.dlq = aws.sqs.Queue(
            "readings-dlq",
            name=f"{prefix}-readings-dlq",
            message_retention_seconds=1209600,  # 14 days, the maximum: time to fix and redrive
            sqs_managed_sse_enabled=True,
        )
        self.source = aws.sqs.Queue(
            "readings",
            name=f"{prefix}-readings",
            visibility_timeout_seconds=6 * PROCESSOR_TIMEOUT,
            message_retention_seconds=345600,  # 4 days
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dlq.arn.apply(
                lambda dlq: json.dumps(
                    {"deadLetterTargetArn": dlq, "maxReceiveCount": MAX_RECEIVE_COUNT}
                )
            ),
        )

        # ------------------------------------------------------------ tables
        self.tables = self.pattern.tables(
            {key: TableSpec(hash_key=hash_key) for key, hash_key in TABLES.items()}
        )
        readings, totals = self.tables.tables["readings"], self.tables.tables["sensor_totals"]

        # ------------------------------------------------------------ functions
        environment: dict[str, dict[str, Any]] = {
            "processor": {"READINGS_TABLE": readings.name, "SENSOR_TOTALS_TABLE": totals.name},
            "redrive": {"DLQ_URL": self.dlq.url, "SOURCE_QUEUE_URL": self.source.url},
        }
        statements = {
            "processor": [
                PolicyStatement.consume_queue("ConsumeSourceQueue", self.source.arn),
                # TransactWriteItems is authorised per item action: PutItem and UpdateItem.
                PolicyStatement(
                    sid="RecordReading", actions=["dynamodb:PutItem"], resources=[readings.arn]
                ),
                PolicyStatement(
                    sid="AddToTotals", actions=["dynamodb:UpdateItem"], resources=[totals.arn]
                ),
            ],
            "redrive": [
                # The redrive function receives and deletes parked messages itself: the same actions.
                PolicyStatement.consume_queue("DrainDeadLetterQueue", self.dlq.arn),
                PolicyStatement(
                    sid="SendToSourceQueue",
                    actions=["sqs:SendMessage"],
                    resources=[self.source.arn],
                ),
            ],
        }
        self.functions = self.pattern.functions(
            {
                name: FunctionSpec(
                    description=description,
                    timeout=timeout,
                    environment=environment[name],
                    policy_statements=statements[name],
                )
                for name, (description, timeout) in FUNCTIONS.items()
            }
        )

        # ------------------------------------------------------------ source queue -> processor
        aws.lambda_.EventSourceMapping(
            "source-queue",
            event_source_arn=self.source.arn,
            function_name=self.functions.functions["processor"].arn,
            batch_size=BATCH_SIZE,
            maximum_batching_window_in_seconds=BATCHING_WINDOW,
            # Only the records the processor names in batchItemFailures return to the queue.
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=MAXIMUM_CONCURRENCY
            ),
        )

    def outputs(self) -> dict[str, Any]:
        """The same outputs as ../terraform/outputs.tf."""
        return {
            "queue_urls": {"source": self.source.url, "dlq": self.dlq.url},
            **self.pattern.outputs(),
        }
