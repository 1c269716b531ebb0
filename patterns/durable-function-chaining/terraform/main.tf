locals {
  artifacts_dir = var.artifacts_dir == null ? "${path.module}/../build" : var.artifacts_dir
  alias_name    = "live"

  tables = {
    orders    = "order_id"
    inventory = "sku"
    payments  = "idempotency_key"
  }

  # Ordinary Lambda functions the orchestrator calls with context.invoke. Least privilege: each
  # gets exactly these actions on exactly its table (TransactWriteItems is authorised per item:
  # PutItem and UpdateItem).
  workers = {
    inventory = {
      description = "Order chain worker: reserves and releases stock (conditional transactions)."
      table       = "inventory"
      actions     = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    }
    payment = {
      description = "Order chain worker: charges and refunds, once per idempotency key."
      table       = "payments"
      actions     = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    }
    shipping = {
      description = "Order chain worker: creates and cancels shipments with the carrier."
      table       = null
      actions     = []
    }
    notification = {
      description = "Order chain worker: sends the order confirmation."
      table       = null
      actions     = []
    }
  }

  orchestrator_name = "${var.name_prefix}-orchestrator"
}

data "aws_partition" "current" {}

module "tables" {
  source   = "../../../terraform/modules/dynamodb-table"
  for_each = local.tables

  name                = "${var.name_prefix}-${each.key}"
  hash_key            = each.value
  hash_key_type       = "S"
  deletion_protection = var.deletion_protection
}

# ---------------------------------------------------------------------------- workers

module "workers" {
  source   = "../../../terraform/modules/python-function"
  for_each = local.workers

  function_name      = "${var.name_prefix}-${each.key}"
  description        = each.value.description
  handler            = "durable_chain.functions.${each.key}.handler"
  filename           = "${local.artifacts_dir}/${each.key}.zip"
  log_retention_days = var.log_retention_days
  # A numbered version per change, for the alias below.
  publish = true

  environment_variables = each.value.table == null ? {} : {
    "${upper(each.value.table)}_TABLE" = module.tables[each.value.table].name
  }

  policy_statements = each.value.table == null ? [] : [
    {
      sid       = "${title(each.value.table)}Table"
      actions   = each.value.actions
      resources = [module.tables[each.value.table].arn]
    }
  ]
}

# The orchestrator calls workers through this alias only, so a release moves the alias and every
# new execution calls the versions it was tested with.
resource "aws_lambda_alias" "workers" {
  for_each = module.workers

  name             = local.alias_name
  description      = "Version the orchestrator invokes."
  function_name    = each.value.function_name
  function_version = each.value.version
}

# ---------------------------------------------------------------------------- orchestrator
# Declared here rather than through the python-function module: it needs `durable_config`, which
# the AWS provider 5.x does not know (even in an unused dynamic block), so the shared module, used by
# every pattern, leaves it out rather than require provider 6.25 everywhere. Same shape as the
# module: its own log group with retention, created before the function; a role scoped to what the
# function uses, with the durable execution managed policy attached before the function exists.

resource "aws_cloudwatch_log_group" "orchestrator" {
  name              = "/aws/lambda/${local.orchestrator_name}"
  retention_in_days = var.log_retention_days
  skip_destroy      = false
}

data "aws_iam_policy_document" "orchestrator_assume" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "orchestrator" {
  name               = "${local.orchestrator_name}-role"
  description        = "Execution role of the durable function ${local.orchestrator_name}"
  assume_role_policy = data.aws_iam_policy_document.orchestrator_assume.json
}

# Checkpointing (lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState) and logs.
resource "aws_iam_role_policy_attachment" "orchestrator_durable_execution" {
  role       = aws_iam_role.orchestrator.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
}

data "aws_iam_policy_document" "orchestrator" {
  # Like every function of the catalog: write to its own log group (the managed policy above also
  # grants logs, on any group; this keeps the intent explicit).
  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.orchestrator.arn}:*"]
  }

  # context.invoke runs with this role: only the workers' live aliases may be invoked.
  statement {
    sid       = "InvokeWorkerAliases"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [for key in sort(keys(aws_lambda_alias.workers)) : aws_lambda_alias.workers[key].arn]
  }

  statement {
    sid       = "OrdersTable"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [module.tables["orders"].arn]
  }
}

resource "aws_iam_role_policy" "orchestrator" {
  name   = "least-privilege"
  role   = aws_iam_role.orchestrator.id
  policy = data.aws_iam_policy_document.orchestrator.json
}

resource "aws_lambda_function" "orchestrator" {
  function_name    = local.orchestrator_name
  description      = "Durable order orchestrator: chains the workers, compensates on failure."
  role             = aws_iam_role.orchestrator.arn
  handler          = "durable_chain.functions.orchestrator.handler"
  runtime          = "python3.13"
  architectures    = ["x86_64"]
  memory_size      = 256
  timeout          = 60 # one invocation (a replay); the execution itself may last days
  package_type     = "Zip"
  filename         = "${local.artifacts_dir}/orchestrator.zip"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/orchestrator.zip")
  # Durable executions run the code of the version they started on: invoke the alias, not $LATEST.
  publish = true

  # Durable execution can only be enabled when a function is created.
  durable_config {
    execution_timeout = var.execution_timeout_seconds
    retention_period  = var.execution_history_retention_days
  }

  environment {
    variables = merge(
      { ORDERS_TABLE = module.tables["orders"].name },
      {
        for key, alias in aws_lambda_alias.workers :
        "${upper(key)}_FUNCTION" => "${alias.function_name}:${alias.name}"
      },
    )
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.orchestrator.name
    # Lambda's defaults for JSON logs, stated: with `publish`, provider 5.x would otherwise plan a
    # new version on every run (hashicorp/terraform-provider-aws#42181).
    application_log_level = "INFO"
    system_log_level      = "INFO"
  }

  depends_on = [
    aws_cloudwatch_log_group.orchestrator,
    aws_iam_role_policy.orchestrator,
    aws_iam_role_policy_attachment.orchestrator_durable_execution,
  ]
}

resource "aws_lambda_alias" "orchestrator" {
  name             = local.alias_name
  description      = "Start executions here: they run the version this alias points to."
  function_name    = aws_lambda_function.orchestrator.function_name
  function_version = aws_lambda_function.orchestrator.version
}
