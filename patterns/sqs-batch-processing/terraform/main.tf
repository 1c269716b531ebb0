locals {
  default_name_prefix = "sqs-batch-processing"
  code_package        = "sqs_batch_processing"
  service_name        = "sqs-batch-processing"

  # The processor's settings, mirrored in the Pulumi program. The source queue hides a message for
  # 6 x the function timeout while a batch is processed, as Lambda recommends for SQS sources.
  processor_timeout   = 30
  max_receive_count   = 3
  batch_size          = 10
  batching_window     = 2
  maximum_concurrency = 5

  tables = {
    readings      = { hash_key = "message_id" }
    sensor_totals = { hash_key = "sensor_id" }
  }

  functions = {
    processor = {
      description = "Source queue -> DynamoDB: applies each reading once, reports partial batch failures."
      timeout     = local.processor_timeout
      environment = {
        READINGS_TABLE      = module.tables.names["readings"]
        SENSOR_TOTALS_TABLE = module.tables.names["sensor_totals"]
      }
      policy_statements = [
        {
          sid       = "ConsumeSourceQueue"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
          resources = [aws_sqs_queue.source.arn]
        },
        # TransactWriteItems is authorised per item action: PutItem and UpdateItem.
        { sid = "RecordReading", actions = ["dynamodb:PutItem"], resources = [module.tables.arns["readings"]] },
        { sid = "AddToTotals", actions = ["dynamodb:UpdateItem"], resources = [module.tables.arns["sensor_totals"]] },
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

  other_function_names  = {}
  other_log_group_names = []
}

# ---------------------------------------------------------------- queues

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.name_prefix}-readings-dlq"
  message_retention_seconds = 1209600 # 14 days, the maximum: time to fix the cause and redrive
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "source" {
  name                       = "${local.name_prefix}-readings"
  visibility_timeout_seconds = 6 * local.processor_timeout
  message_retention_seconds  = 345600 # 4 days
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = local.max_receive_count
  })
}

# ---------------------------------------------------------------- source queue -> processor

resource "aws_lambda_event_source_mapping" "source_queue" {
  event_source_arn                   = aws_sqs_queue.source.arn
  function_name                      = module.functions.functions["processor"].arn
  batch_size                         = local.batch_size
  maximum_batching_window_in_seconds = local.batching_window
  # Only the records the processor names in batchItemFailures return to the queue.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = local.maximum_concurrency
  }
}
