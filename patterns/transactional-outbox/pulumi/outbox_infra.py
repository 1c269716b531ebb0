"""Every resource of the transactional outbox, as in ../terraform/main.tf (same names, settings,
least-privilege statements and outputs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from catalog_pulumi import FunctionSpec, PatternCore, PatternSettings, PolicyStatement, TableSpec

PACKAGE = "transactional_outbox"
EVENT_SOURCE = "transactional-outbox.orders"
# table key -> (partition key, TTL attribute, stream view type)
TABLES: dict[str, tuple[str, str | None, str | None]] = {
    "orders": ("order_id", None, None),
    "outbox": ("event_id", "expires_at", "NEW_IMAGE"),
    "idempotency": ("id", "expiration", None),
    "ledger": ("pk", None, None),
}
# Relay stream settings: a record that keeps failing blocks its shard for at most 5 retries or
# 1 hour, then its position goes to the relay-failures queue.
RELAY_STREAM = {
    "batch_size": 10,
    "batching_window": 1,
    "maximum_retry_attempts": 5,
    "maximum_record_age": 3600,
}
DESCRIPTIONS = {
    "create-order": "POST /orders: validates, then writes the order and its outbox record in one "
    "transaction.",
    "relay": "Outbox stream -> EventBridge: publishes each outbox record once and marks it "
    "published.",
    "consumer": "Events queue -> ledger: applies each OrderCreated event exactly once in effect.",
}
TIMEOUTS = {"create-order": 10, "relay": 30, "consumer": 10}


def _queue_policy(sid: str, queue_arn: pulumi.Output[str], rule_arn: pulumi.Output[str]) -> Any:
    """Only this rule (as events.amazonaws.com) may send to the queue."""
    return pulumi.Output.all(queue_arn, rule_arn).apply(
        lambda arns: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": sid,
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": arns[0],
                        "Condition": {"ArnEquals": {"aws:SourceArn": arns[1]}},
                    }
                ],
            }
        )
    )


class OutboxStack:
    def __init__(self, settings: PatternSettings, zips: Mapping[str, Path]) -> None:
        prefix = settings.name_prefix
        log_retention_days = settings.log_retention_days

        # ------------------------------------------------------------ tables
        self.pattern = PatternCore(
            settings,
            code_package=PACKAGE,
            service_name="transactional-outbox",
            zips=zips,
        )
        self.tables = self.pattern.tables(
            {
                key: TableSpec(hash_key=hash_key, ttl_attribute=ttl, stream_view_type=stream)
                for key, (hash_key, ttl, stream) in TABLES.items()
            }
        )
        arn, table_name = self.tables.arns, self.tables.names

        # ------------------------------------------------------------ queues
        self.dlq = aws.sqs.Queue(
            "events-dlq",
            name=f"{prefix}-events-dlq",
            message_retention_seconds=1209600,  # 14 days, the maximum: time to inspect, redrive
            sqs_managed_sse_enabled=True,
        )
        self.events_queue = aws.sqs.Queue(
            "events",
            name=f"{prefix}-events",
            visibility_timeout_seconds=60,  # >= 6 x the consumer timeout, as Lambda recommends
            message_retention_seconds=345600,
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dlq.arn.apply(
                lambda dlq: json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": 5})
            ),
        )
        self.relay_failures = aws.sqs.Queue(
            "relay-failures",
            name=f"{prefix}-relay-failures",
            message_retention_seconds=1209600,
            sqs_managed_sse_enabled=True,
        )

        # ------------------------------------------------------------ bus -> events queue
        self.bus = aws.cloudwatch.EventBus("orders", name=f"{prefix}-orders")
        self.rule = aws.cloudwatch.EventRule(
            "order-created",
            name=f"{prefix}-order-created",
            description="OrderCreated events from the outbox relay to the events queue.",
            event_bus_name=self.bus.name,
            event_pattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": ["OrderCreated"]}),
        )
        aws.cloudwatch.EventTarget(
            "events-queue",
            rule=self.rule.name,
            event_bus_name=self.bus.name,
            target_id="events-queue",
            arn=self.events_queue.arn,
            # Deliveries EventBridge cannot make land in the DLQ instead of being dropped.
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=self.dlq.arn),
        )
        aws.sqs.QueuePolicy(
            "events",
            queue_url=self.events_queue.url,
            policy=_queue_policy("EventBridgeRuleSends", self.events_queue.arn, self.rule.arn),
        )
        aws.sqs.QueuePolicy(
            "dlq",
            queue_url=self.dlq.url,
            policy=_queue_policy("EventBridgeRuleDeadLetters", self.dlq.arn, self.rule.arn),
        )

        # ------------------------------------------------------------ functions
        environment: dict[str, dict[str, pulumi.Input[str]]] = {
            "create-order": {
                "ORDERS_TABLE": table_name["orders"],
                "OUTBOX_TABLE": table_name["outbox"],
                "IDEMPOTENCY_TABLE": table_name["idempotency"],
                "IDEMPOTENCY_TTL_SECONDS": "86400",
                "OUTBOX_TTL_DAYS": "7",
            },
            "relay": {
                "OUTBOX_TABLE": table_name["outbox"],
                "EVENT_BUS_NAME": self.bus.name,
                "EVENT_SOURCE": EVENT_SOURCE,
            },
            "consumer": {"LEDGER_TABLE": table_name["ledger"]},
        }
        statements: dict[str, list[PolicyStatement]] = {
            "create-order": [
                # TransactWriteItems is authorised per item action: PutItem on each table.
                PolicyStatement(
                    sid="WriteOrder", actions=["dynamodb:PutItem"], resources=[arn["orders"]]
                ),
                PolicyStatement(
                    sid="WriteOutbox", actions=["dynamodb:PutItem"], resources=[arn["outbox"]]
                ),
                PolicyStatement(
                    sid="IdempotencyStore",
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                    ],
                    resources=[arn["idempotency"]],
                ),
            ],
            "relay": [
                PolicyStatement(
                    sid="ReadOutboxStream",
                    actions=[
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    resources=[arn["outbox"].apply(lambda a: f"{a}/stream/*")],
                ),
                PolicyStatement(
                    sid="MarkPublished",
                    actions=["dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
                    resources=[arn["outbox"]],
                ),
                PolicyStatement(
                    sid="PublishEvents", actions=["events:PutEvents"], resources=[self.bus.arn]
                ),
                # The event source mapping sends records that keep failing here, with this role.
                PolicyStatement(
                    sid="OnFailureDestination",
                    actions=["sqs:SendMessage"],
                    resources=[self.relay_failures.arn],
                ),
            ],
            "consumer": [
                PolicyStatement.consume_queue("ConsumeEventsQueue", self.events_queue.arn),
                PolicyStatement(
                    sid="ApplyToLedger",
                    actions=["dynamodb:PutItem", "dynamodb:UpdateItem"],
                    resources=[arn["ledger"]],
                ),
            ],
        }
        self.functions = self.pattern.functions(
            {
                name: FunctionSpec(
                    description=DESCRIPTIONS[name],
                    timeout=TIMEOUTS[name],
                    environment=environment[name],
                    policy_statements=statements[name],
                )
                for name in ("create-order", "relay", "consumer")
            }
        )

        # ------------------------------------------------------------ HTTP API: POST /orders
        self.api = aws.apigatewayv2.Api(
            "api",
            name=f"{prefix}-api",
            description="Order service of the transactional outbox pattern.",
            protocol_type="HTTP",
        )
        create_order = self.functions.functions["create-order"]
        integration = aws.apigatewayv2.Integration(
            "create-order",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=create_order.arn,  # HTTP APIs take the function ARN
            payload_format_version="2.0",
            timeout_milliseconds=12000,
        )
        aws.apigatewayv2.Route(
            "post-orders",
            api_id=self.api.id,
            route_key="POST /orders",
            target=integration.id.apply(lambda i: f"integrations/{i}"),
            # Callers sign requests (SigV4) with IAM credentials allowed execute-api:Invoke on this
            # route: no anonymous writes. Swap for a JWT authorizer to serve end users.
            authorization_type="AWS_IAM",
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            "api-access",
            name=f"/aws/apigateway/{prefix}-api",
            retention_in_days=log_retention_days,
        )
        aws.apigatewayv2.Stage(
            "default",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn,
                format=json.dumps(
                    {
                        "requestId": "$context.requestId",
                        "sourceIp": "$context.identity.sourceIp",
                        "requestTime": "$context.requestTime",
                        "routeKey": "$context.routeKey",
                        "status": "$context.status",
                        "responseLength": "$context.responseLength",
                        "integrationError": "$context.integrationErrorMessage",
                    }
                ),
            ),
            # A ceiling for the demo: bursts beyond it get 429 instead of scaling the bill.
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_burst_limit=100, throttling_rate_limit=50
            ),
        )
        aws.lambda_.Permission(
            "api-invoke",
            statement_id="AllowHttpApiPostOrders",
            action="lambda:InvokeFunction",
            function=create_order.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=self.api.execution_arn.apply(lambda a: f"{a}/*/POST/orders"),
        )

        # ------------------------------------------------------------ event source mappings
        aws.lambda_.EventSourceMapping(
            "outbox-stream",
            event_source_arn=self.tables.stream_arns["outbox"],
            function_name=self.functions.functions["relay"].arn,
            starting_position="TRIM_HORIZON",  # records written before the mapping still flow
            batch_size=RELAY_STREAM["batch_size"],
            maximum_batching_window_in_seconds=RELAY_STREAM["batching_window"],
            parallelization_factor=1,  # per-shard order; one relay per shard at a time
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=RELAY_STREAM["maximum_retry_attempts"],
            maximum_record_age_in_seconds=RELAY_STREAM["maximum_record_age"],
            function_response_types=["ReportBatchItemFailures"],
            # Only new outbox records: the relay's own marks and TTL deletions are not events.
            filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                filters=[
                    aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(
                        pattern=json.dumps({"eventName": ["INSERT"]})
                    )
                ]
            ),
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.relay_failures.arn
                )
            ),
        )
        aws.lambda_.EventSourceMapping(
            "events-queue",
            event_source_arn=self.events_queue.arn,
            function_name=self.functions.functions["consumer"].arn,
            batch_size=10,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=5),
        )

    def outputs(self) -> dict[str, Any]:
        """The same outputs as ../terraform/outputs.tf."""
        return {
            "api_endpoint": self.api.api_endpoint,
            "queue_urls": {
                "events": self.events_queue.url,
                "dlq": self.dlq.url,
                "relay_failures": self.relay_failures.url,
            },
            "event_bus_name": self.bus.name,
            **self.pattern.outputs(other_log_group_names=[self.access_logs.name]),
        }
