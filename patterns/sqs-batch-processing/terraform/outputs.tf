output "queue_urls" {
  description = "Queue URLs by role: source (readings in), dlq (readings parked after maxReceiveCount receives)."
  value = {
    source = aws_sqs_queue.source.url
    dlq    = aws_sqs_queue.dlq.url
  }
}

output "table_names" {
  description = "Table names by role: readings (one row per applied message), sensor_totals (running totals per sensor)."
  value       = { for key, table in module.tables : key => table.name }
}

output "function_names" {
  description = "Deployed function names by short name (processor, redrive)."
  value       = { for key, fn in module.functions : key => fn.function_name }
}

output "log_group_names" {
  description = "Every log group of the pattern (one per function)."
  value       = [for key in sort(keys(module.functions)) : module.functions[key].log_group_name]
}
