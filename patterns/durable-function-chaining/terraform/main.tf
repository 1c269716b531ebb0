locals {
  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../build")
  alias_name    = "live"
  # Powertools Logger takes its service name and level from here, in every function.
  powertools_environment = {
    POWERTOOLS_SERVICE_NAME = "durable-function-chaining"
    POWERTOOLS_LOG_LEVEL    = "INFO"
  }

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

# ---------------------------------------------------------------------------- dependencies layer
# boto3, the durable SDK, Powertools and pydantic (src/requirements.lock) ship once, in this layer;
# every function zip holds only the pattern's own code.

module "dependencies" {
  source = "../../../terraform/modules/lambda-layer"

  layer_name  = "${var.name_prefix}-dependencies"
  description = "Order chain dependencies: boto3, durable execution SDK, Powertools, pydantic."
  filename    = "${local.artifacts_dir}/layer.zip"
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
  layers             = [module.dependencies.arn]
  # A numbered version per change, for the alias below.
  publish = true

  environment_variables = merge(
    local.powertools_environment,
    each.value.table == null ? {} : {
      "${upper(each.value.table)}_TABLE" = module.tables[each.value.table].name
    },
  )

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
# The durable function: the same module as the workers, with durable_config. Its role gets the AWS
# managed policy for checkpointing (lambda:CheckpointDurableExecution,
# lambda:GetDurableExecutionState), attached before the function exists.

module "orchestrator" {
  source = "../../../terraform/modules/python-function"

  function_name      = local.orchestrator_name
  description        = "Durable order orchestrator: chains the workers, compensates on failure."
  handler            = "durable_chain.functions.orchestrator.handler"
  filename           = "${local.artifacts_dir}/orchestrator.zip"
  timeout            = 60 # one invocation (a replay); the execution itself may last days
  log_retention_days = var.log_retention_days
  layers             = [module.dependencies.arn]
  # Durable executions run the code of the version they started on: invoke the alias, not $LATEST.
  publish = true

  # Durable execution can only be enabled when a function is created.
  durable_config = {
    execution_timeout = var.execution_timeout_seconds
    retention_period  = var.execution_history_retention_days
  }
  managed_policy_arns = [
    "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy",
  ]

  environment_variables = merge(
    local.powertools_environment,
    { ORDERS_TABLE = module.tables["orders"].name },
    {
      for key, alias in aws_lambda_alias.workers :
      "${upper(key)}_FUNCTION" => "${alias.function_name}:${alias.name}"
    },
  )

  policy_statements = [
    # context.invoke runs with this role: only the workers' live aliases may be invoked.
    {
      sid       = "InvokeWorkerAliases"
      actions   = ["lambda:InvokeFunction"]
      resources = [for key in sort(keys(aws_lambda_alias.workers)) : aws_lambda_alias.workers[key].arn]
    },
    {
      sid       = "OrdersTable"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [module.tables["orders"].arn]
    },
  ]
}

resource "aws_lambda_alias" "orchestrator" {
  name             = local.alias_name
  description      = "Start executions here: they run the version this alias points to."
  function_name    = module.orchestrator.function_name
  function_version = module.orchestrator.version
}
