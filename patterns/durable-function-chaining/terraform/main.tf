locals {
  default_name_prefix = "durable-chain"
  code_package        = "durable_chain"
  service_name        = "durable-function-chaining"
  alias_name          = "live"
  item_actions        = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]

  tables = {
    orders    = { hash_key = "order_id" }
    inventory = { hash_key = "sku" }
    payments  = { hash_key = "idempotency_key" }
  }

  # Ordinary Lambda functions the orchestrator calls with context.invoke. Least privilege: each
  # gets exactly local.item_actions on exactly its table (TransactWriteItems is authorised per
  # item: PutItem and UpdateItem).
  workers = {
    inventory = {
      description = "Order chain worker: reserves and releases stock (conditional transactions)."
      table       = "inventory"
    }
    payment = {
      description = "Order chain worker: charges and refunds, once per idempotency key."
      table       = "payments"
    }
    shipping = {
      description = "Order chain worker: creates and cancels shipments with the carrier."
      table       = null
    }
    notification = {
      description = "Order chain worker: sends the order confirmation."
      table       = null
    }
  }

  functions = {
    for key, worker in local.workers : key => {
      description = worker.description
      environment = worker.table == null ? {} : {
        "${upper(worker.table)}_TABLE" = module.tables.names[worker.table]
      }
      policy_statements = worker.table == null ? [] : [{
        sid       = "${title(worker.table)}Table"
        actions   = local.item_actions
        resources = [module.tables.arns[worker.table]]
      }]
      layers = [module.dependencies.arn]
      # A numbered version per change, for the aliases below.
      publish = true
    }
  }

  orchestrator_name     = "${local.name_prefix}-orchestrator"
  other_function_names  = { orchestrator = module.orchestrator.function_name }
  other_log_group_names = [module.orchestrator.log_group_name]
}

data "aws_partition" "current" {}

# ---------------------------------------------------------------------------- dependencies layer
# boto3, the durable SDK, Powertools and pydantic (src/requirements.lock) ship once, in this layer;
# every function zip holds only the pattern's own code.

module "dependencies" {
  source = "../../../terraform/modules/lambda-layer"

  layer_name  = "${local.name_prefix}-dependencies"
  description = "Order chain dependencies: boto3, durable execution SDK, Powertools, pydantic."
  filename    = "${local.artifacts_dir}/layer.zip"
}

# ---------------------------------------------------------------------------- worker aliases
# The orchestrator calls workers through this alias only, so a release moves the alias and every
# new execution calls the versions it was tested with.
resource "aws_lambda_alias" "workers" {
  for_each = module.functions.functions

  name             = local.alias_name
  description      = "Version the orchestrator invokes."
  function_name    = each.value.function_name
  function_version = each.value.version
}

# ---------------------------------------------------------------------------- orchestrator
# The durable function: python-function (which python-functions calls for the workers) with
# durable_config. Its role gets the AWS managed policy for checkpointing
# (lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState), attached before the
# function exists.

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

  service_name = local.service_name
  environment_variables = merge(
    { ORDERS_TABLE = module.tables.names["orders"] },
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
      actions   = local.item_actions
      resources = [module.tables.arns["orders"]]
    },
  ]
}

resource "aws_lambda_alias" "orchestrator" {
  name             = local.alias_name
  description      = "Start executions here: they run the version this alias points to."
  function_name    = module.orchestrator.function_name
  function_version = module.orchestrator.version
}
