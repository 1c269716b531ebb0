locals {
  default_name_prefix = "txn-outbox"
  code_package        = "transactional_outbox"
  service_name        = "transactional-outbox"

  # The `source` of every event the relay publishes; the rule matches on it.
  event_source = "transactional-outbox.orders"

  tables = {
    orders      = { hash_key = "order_id" }
    outbox      = { hash_key = "event_id", ttl_attribute = "expires_at", stream_view_type = "NEW_IMAGE" }
    idempotency = { hash_key = "id", ttl_attribute = "expiration" }
    ledger      = { hash_key = "pk" }
  }

  # Relay stream settings (mirrored in the Pulumi program). A record that keeps failing blocks its
  # shard for at most 5 retries or 1 hour, then its position goes to the relay-failures queue.
  relay_stream = {
    batch_size             = 10
    batching_window        = 1
    maximum_retry_attempts = 5
    maximum_record_age     = 3600
  }

  functions = {
    "create-order" = {
      description = "POST /orders: validates, then writes the order and its outbox record in one transaction."
      timeout     = 10
      environment = {
        ORDERS_TABLE            = module.tables.names["orders"]
        OUTBOX_TABLE            = module.tables.names["outbox"]
        IDEMPOTENCY_TABLE       = module.tables.names["idempotency"]
        IDEMPOTENCY_TTL_SECONDS = "86400"
        OUTBOX_TTL_DAYS         = "7"
      }
      policy_statements = [
        # TransactWriteItems is authorised per item action: PutItem on each table.
        { sid = "WriteOrder", actions = ["dynamodb:PutItem"], resources = [module.tables.arns["orders"]] },
        { sid = "WriteOutbox", actions = ["dynamodb:PutItem"], resources = [module.tables.arns["outbox"]] },
        {
          sid       = "IdempotencyStore"
          actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          resources = [module.tables.arns["idempotency"]]
        },
      ]
    }
    relay = {
      description = "Outbox stream -> EventBridge: publishes each outbox record once and marks it published."
      timeout     = 30
      environment = {
        OUTBOX_TABLE   = module.tables.names["outbox"]
        EVENT_BUS_NAME = aws_cloudwatch_event_bus.orders.name
        EVENT_SOURCE   = local.event_source
      }
      policy_statements = [
        {
          sid       = "ReadOutboxStream"
          actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
          resources = ["${module.tables.arns["outbox"]}/stream/*"]
        },
        { sid = "MarkPublished", actions = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"], resources = [module.tables.arns["outbox"]] },
        { sid = "PublishEvents", actions = ["events:PutEvents"], resources = [aws_cloudwatch_event_bus.orders.arn] },
        # The event source mapping sends records that keep failing here, with the function's role.
        { sid = "OnFailureDestination", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.relay_failures.arn] },
      ]
    }
    consumer = {
      description = "Events queue -> ledger: applies each OrderCreated event exactly once in effect."
      timeout     = 10
      environment = {
        LEDGER_TABLE = module.tables.names["ledger"]
      }
      policy_statements = [
        {
          sid       = "ConsumeEventsQueue"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
          resources = [aws_sqs_queue.events.arn]
        },
        { sid = "ApplyToLedger", actions = ["dynamodb:PutItem", "dynamodb:UpdateItem"], resources = [module.tables.arns["ledger"]] },
      ]
    }
  }

  other_function_names  = {}
  other_log_group_names = [aws_cloudwatch_log_group.api_access.name]
}

# ---------------------------------------------------------------- HTTP API: POST /orders

resource "aws_apigatewayv2_api" "http" {
  name          = "${local.name_prefix}-api"
  description   = "Order service of the transactional outbox pattern."
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "create_order" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = module.functions.functions["create-order"].arn # HTTP APIs take the function ARN
  payload_format_version = "2.0"
  timeout_milliseconds   = 12000
}

resource "aws_apigatewayv2_route" "post_orders" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /orders"
  target    = "integrations/${aws_apigatewayv2_integration.create_order.id}"
  # Callers sign requests (SigV4) with IAM credentials allowed execute-api:Invoke on this route:
  # no anonymous writes. Swap for a JWT authorizer to serve end users.
  authorization_type = "AWS_IAM"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${local.name_prefix}-api"
  retention_in_days = var.log_retention_days
  skip_destroy      = false
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      sourceIp         = "$context.identity.sourceIp"
      requestTime      = "$context.requestTime"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      responseLength   = "$context.responseLength"
      integrationError = "$context.integrationErrorMessage"
    })
  }

  # A ceiling for the demo: bursts beyond it get 429 instead of scaling the bill.
  default_route_settings {
    throttling_burst_limit = 100
    throttling_rate_limit  = 50
  }
}

resource "aws_lambda_permission" "api_invoke" {
  statement_id  = "AllowHttpApiPostOrders"
  action        = "lambda:InvokeFunction"
  function_name = module.functions.functions["create-order"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/POST/orders"
}

# ---------------------------------------------------------------- queues

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.name_prefix}-events-dlq"
  message_retention_seconds = 1209600 # 14 days, the maximum: time to inspect and redrive
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name                       = "${local.name_prefix}-events"
  visibility_timeout_seconds = 60 # >= 6 x the consumer timeout, as Lambda recommends
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "relay_failures" {
  name                      = "${local.name_prefix}-relay-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# ---------------------------------------------------------------- EventBridge bus -> events queue

resource "aws_cloudwatch_event_bus" "orders" {
  name = "${local.name_prefix}-orders"
}

resource "aws_cloudwatch_event_rule" "order_created" {
  name           = "${local.name_prefix}-order-created"
  description    = "OrderCreated events from the outbox relay to the events queue."
  event_bus_name = aws_cloudwatch_event_bus.orders.name
  event_pattern = jsonencode({
    source        = [local.event_source]
    "detail-type" = ["OrderCreated"]
  })
}

resource "aws_cloudwatch_event_target" "events_queue" {
  rule           = aws_cloudwatch_event_rule.order_created.name
  event_bus_name = aws_cloudwatch_event_bus.orders.name
  target_id      = "events-queue"
  arn            = aws_sqs_queue.events.arn

  # Deliveries EventBridge cannot make land in the DLQ instead of being dropped after 24 h.
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

data "aws_iam_policy_document" "events_queue" {
  statement {
    sid       = "EventBridgeRuleSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.order_created.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.events_queue.json
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "EventBridgeRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.order_created.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}

# ---------------------------------------------------------------- event source mappings

resource "aws_lambda_event_source_mapping" "outbox_stream" {
  event_source_arn  = module.tables.stream_arns["outbox"]
  function_name     = module.functions.functions["relay"].arn
  starting_position = "TRIM_HORIZON" # records written before the mapping existed still flow

  batch_size                         = local.relay_stream.batch_size
  maximum_batching_window_in_seconds = local.relay_stream.batching_window
  parallelization_factor             = 1 # per-shard order; one relay per shard at a time
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = local.relay_stream.maximum_retry_attempts
  maximum_record_age_in_seconds      = local.relay_stream.maximum_record_age
  function_response_types            = ["ReportBatchItemFailures"]

  # Only new outbox records: the relay's own "published" marks and TTL deletions are not events.
  filter_criteria {
    filter {
      pattern = jsonencode({ eventName = ["INSERT"] })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.relay_failures.arn
    }
  }
}

resource "aws_lambda_event_source_mapping" "events_queue" {
  event_source_arn        = aws_sqs_queue.events.arn
  function_name           = module.functions.functions["consumer"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 5
  }
}
