output "table_names" {
  description = "Table names by role: records."
  value       = { records = module.records.name }
}

output "function_names" {
  description = "Deployed function names by short name (put-record)."
  value       = { "put-record" = module.put_record.function_name }
}

output "log_group_names" {
  description = "Every log group of the pattern."
  value       = [module.put_record.log_group_name]
}
