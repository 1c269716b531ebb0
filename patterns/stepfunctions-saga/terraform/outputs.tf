output "state_machine_arn" {
  description = "ARN of the order saga state machine."
  value       = module.state_machine.arn
}

output "state_machine_name" {
  description = "Name of the order saga state machine."
  value       = module.state_machine.name
}

output "table_names" {
  description = "Table names by role: orders, inventory, payments."
  value       = { for key, table in module.tables : key => table.name }
}

output "function_names" {
  description = "Deployed function names by short name (create-order, ...)."
  value       = { for key, fn in module.functions : key => fn.function_name }
}

output "log_group_names" {
  description = "Every log group of the pattern (seven functions and the state machine)."
  value       = concat([for key in sort(keys(module.functions)) : module.functions[key].log_group_name], [module.state_machine.log_group_name])
}
