locals {
  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../build")

  tables = {
    orders    = "order_id"
    inventory = "sku"
    payments  = "idempotency_key"
  }

  # Least privilege: each function gets exactly these actions on exactly these tables.
  functions = {
    "create-order" = {
      description = "Saga step: records a new order as PENDING."
      access      = { orders = ["dynamodb:PutItem"] }
    }
    "reserve-inventory" = {
      description = "Saga step: reserves stock for the order."
      access = {
        inventory = ["dynamodb:UpdateItem"]
        orders    = ["dynamodb:UpdateItem"]
      }
    }
    "charge-payment" = {
      description = "Saga step: charges the payment once per idempotency key."
      access = {
        payments = ["dynamodb:PutItem", "dynamodb:GetItem"]
        orders   = ["dynamodb:UpdateItem"]
      }
    }
    "ship-order" = {
      description = "Saga step: marks the order shipped."
      access      = { orders = ["dynamodb:UpdateItem"] }
    }
    "refund-payment" = {
      description = "Compensation: refunds a charged payment."
      access = {
        payments = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        orders   = ["dynamodb:UpdateItem"]
      }
    }
    "release-inventory" = {
      description = "Compensation: releases reserved stock."
      access = {
        inventory = ["dynamodb:UpdateItem"]
        orders    = ["dynamodb:UpdateItem"]
      }
    }
    "cancel-order" = {
      description = "Compensation: marks the order cancelled."
      access      = { orders = ["dynamodb:UpdateItem"] }
    }
  }

  table_environment = {
    ORDERS_TABLE    = module.tables["orders"].name
    INVENTORY_TABLE = module.tables["inventory"].name
    PAYMENTS_TABLE  = module.tables["payments"].name
  }
}

module "tables" {
  source   = "../../../terraform/modules/dynamodb-table"
  for_each = local.tables

  name                = "${var.name_prefix}-${each.key}"
  hash_key            = each.value
  hash_key_type       = "S"
  deletion_protection = var.deletion_protection
}

module "functions" {
  source   = "../../../terraform/modules/python-function"
  for_each = local.functions

  function_name      = "${var.name_prefix}-${each.key}"
  description        = each.value.description
  handler            = "sfn_saga.functions.${replace(each.key, "-", "_")}.handler"
  filename           = "${local.artifacts_dir}/${each.key}.zip"
  log_retention_days = var.log_retention_days

  environment_variables = merge(local.table_environment, {
    POWERTOOLS_SERVICE_NAME = "stepfunctions-saga"
    POWERTOOLS_LOG_LEVEL    = "INFO"
  })

  policy_statements = [
    for table, actions in each.value.access : {
      sid       = "${title(table)}Table"
      actions   = actions
      resources = [module.tables[table].arn]
    }
  ]
}

module "state_machine" {
  source = "../../../terraform/modules/state-machine"

  name = "${var.name_prefix}-order-saga"
  # Placeholders are the PascalCase function name + "FunctionArn", e.g. ${ChargePaymentFunctionArn}.
  definition = templatefile("${path.module}/../statemachine/saga.asl.json", {
    for name, fn in module.functions :
    "${join("", [for part in split("-", name) : title(part)])}FunctionArn" => fn.arn
  })
  lambda_function_arns = [for name in sort(keys(local.functions)) : module.functions[name].arn]
  log_retention_days   = var.log_retention_days
}
