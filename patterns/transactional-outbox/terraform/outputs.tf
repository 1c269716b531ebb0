output "api_endpoint" {
  description = "Base URL of the HTTP API; POST orders to <api_endpoint>/orders."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "table_names" {
  description = "Table names by role: orders, outbox, idempotency, ledger."
  value       = { for key, table in module.tables : key => table.name }
}

output "queue_urls" {
  description = "Queue URLs by role: events (rule target), dlq (its dead-letter queue), relay_failures (the relay's on-failure destination)."
  value = {
    events         = aws_sqs_queue.events.url
    dlq            = aws_sqs_queue.dlq.url
    relay_failures = aws_sqs_queue.relay_failures.url
  }
}

output "event_bus_name" {
  description = "Name of the EventBridge bus the relay publishes to."
  value       = aws_cloudwatch_event_bus.orders.name
}

output "function_names" {
  description = "Deployed function names by short name (create-order, relay, consumer)."
  value       = { for key, fn in module.functions : key => fn.function_name }
}

output "log_group_names" {
  description = "Every log group of the pattern (three functions and the API access log)."
  value       = concat([for key in sort(keys(module.functions)) : module.functions[key].log_group_name], [aws_cloudwatch_log_group.api_access.name])
}
