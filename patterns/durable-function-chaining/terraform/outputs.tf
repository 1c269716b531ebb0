output "orchestrator_function_name" {
  description = "Name of the durable orchestrator function."
  value       = module.orchestrator.function_name
}

output "orchestrator_alias_arn" {
  description = "ARN of the orchestrator's live alias: start executions here (a qualified ARN is required)."
  value       = aws_lambda_alias.orchestrator.arn
}

output "worker_function_names" {
  description = "Deployed worker function names by logical name (inventory, payment, shipping, notification)."
  value       = { for key, fn in module.workers : key => fn.function_name }
}

output "table_names" {
  description = "Table names by role: orders, inventory, payments."
  value       = { for key, table in module.tables : key => table.name }
}

output "log_group_names" {
  description = "Every log group of the pattern (the orchestrator and four workers)."
  value = concat(
    [module.orchestrator.log_group_name],
    [for key in sort(keys(module.workers)) : module.workers[key].log_group_name],
  )
}
