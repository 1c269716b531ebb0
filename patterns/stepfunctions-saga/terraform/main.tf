locals {
  default_name_prefix = "sfn-saga"
  code_package        = "sfn_saga"
  service_name        = "stepfunctions-saga"

  tables = {
    orders    = { hash_key = "order_id" }
    inventory = { hash_key = "sku" }
    payments  = { hash_key = "idempotency_key" }
  }

  # The saga's steps and compensations. Least privilege: each function gets exactly these actions
  # on exactly these tables.
  steps = {
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
    ORDERS_TABLE    = module.tables.names["orders"]
    INVENTORY_TABLE = module.tables.names["inventory"]
    PAYMENTS_TABLE  = module.tables.names["payments"]
  }

  functions = {
    for name, step in local.steps : name => {
      description = step.description
      environment = local.table_environment
      policy_statements = [
        for table, actions in step.access : {
          sid       = "${title(table)}Table"
          actions   = actions
          resources = [module.tables.arns[table]]
        }
      ]
    }
  }

  other_function_names  = {}
  other_log_group_names = [module.state_machine.log_group_name]
}

module "state_machine" {
  source = "../../../terraform/modules/state-machine"

  name = "${local.name_prefix}-order-saga"
  # Placeholders are the PascalCase function name + "FunctionArn", e.g. ${ChargePaymentFunctionArn}.
  definition = templatefile("${path.module}/../statemachine/saga.asl.json", {
    for name, fn in module.functions.functions :
    "${join("", [for part in split("-", name) : title(part)])}FunctionArn" => fn.arn
  })
  lambda_function_arns = [for name in sort(keys(local.steps)) : module.functions.functions[name].arn]
  log_retention_days   = var.log_retention_days
}
