output "functions" {
  description = "Every function by short name, with its python-function outputs (function_name, arn, version, log_group_name, role_name, ...)."
  value       = module.function
}

output "function_names" {
  description = "Deployed function names by short name."
  value       = { for key, fn in module.function : key => fn.function_name }
}

output "log_group_names" {
  description = "Every function's log group name, in the order of the short names."
  value       = [for key in sort(keys(module.function)) : module.function[key].log_group_name]
}
