output "api_endpoint" {
  description = "Base URL of the HTTP API; POST orders to <api_endpoint>/orders."
  value       = aws_apigatewayv2_api.http.api_endpoint
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
