locals {
  artifacts_dir = var.artifacts_dir == null ? "${path.module}/../build" : var.artifacts_dir

  # The processor's settings, mirrored in the Pulumi program. The source queue hides a message for
  # 6 x the function timeout while a batch is processed, as Lambda recommends for SQS sources.
  processor_timeout   = 30
  max_receive_count   = 3
  batch_size          = 10
  batching_window     = 2
  maximum_concurrency = 5

  tables = {
    readings      = "message_id"
    sensor_totals = "sensor_id"
  }

  functions = {
    processor = {
      description = "Source queue -> DynamoDB: applies each reading once, reports partial batch failures."
      timeout     = local.processor_timeout
      environment = {
        READINGS_TABLE      = module.tables["readings"].name
        SENSOR_TOTALS_TABLE = module.tables["sensor_totals"].name
      }
      policy_statements = [
        {
          sid       = "ConsumeSourceQueue"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
          resources = [aws_sqs_queue.source.arn]
        },
        # TransactWriteItems is authorised per item action: PutItem and UpdateItem.
        { sid = "RecordReading", actions = ["dynamodb:PutItem"], resources = [module.tables["readings"].arn] },
        { sid = "AddToTotals", actions = ["dynamodb:UpdateItem"], resources = [module.tables["sensor_totals"].arn] },
      ]
    }
    redrive = {
      description = "Dead-letter queue -> source queue: moves parked readings back once the cause is fixed."
      timeout     = 300
      environment = {
        DLQ_URL          = aws_sqs_queue.dlq.url
        SOURCE_QUEUE_URL = aws_sqs_queue.source.url
      }
      policy_statements = [
        {
          sid       = "DrainDeadLetterQueue"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
          resources = [aws_sqs_queue.dlq.arn]
        },
        { sid = "SendToSourceQueue", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.source.arn] },
      ]
    }
  }
}

# ---------------------------------------------------------------- queues

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name_prefix}-readings-dlq"
  message_retention_seconds = 1209600 # 14 days, the maximum: time to fix the cause and redrive
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "source" {
  name                       = "${var.name_prefix}-readings"
  visibility_timeout_seconds = 6 * local.processor_timeout
  message_retention_seconds  = 345600 # 4 days
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = local.max_receive_count
  })
}

# ---------------------------------------------------------------- tables

module "tables" {
  source   = "../../../terraform/modules/dynamodb-table"
  for_each = local.tables

  name                = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  hash_key            = each.value
  hash_key_type       = "S"
  deletion_protection = var.deletion_protection
}

# ---------------------------------------------------------------- functions

module "functions" {
  source   = "../../../terraform/modules/python-function"
  for_each = local.functions

  function_name      = "${var.name_prefix}-${each.key}"
  description        = each.value.description
  handler            = "sqs_batch_processing.functions.${each.key}.handler"
  filename           = "${local.artifacts_dir}/${each.key}.zip"
  timeout            = each.value.timeout
  log_retention_days = var.log_retention_days

  environment_variables = merge(each.value.environment, {
    POWERTOOLS_SERVICE_NAME = "sqs-batch-processing"
    POWERTOOLS_LOG_LEVEL    = "INFO"
  })
  policy_statements = each.value.policy_statements
}

# ---------------------------------------------------------------- source queue -> processor

resource "aws_lambda_event_source_mapping" "source_queue" {
  event_source_arn                   = aws_sqs_queue.source.arn
  function_name                      = module.functions["processor"].arn
  batch_size                         = local.batch_size
  maximum_batching_window_in_seconds = local.batching_window
  # Only the records the processor names in batchItemFailures return to the queue.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = local.maximum_concurrency
  }
}
