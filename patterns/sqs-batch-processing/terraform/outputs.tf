output "queue_urls" {
  description = "Queue URLs by role: source (readings in), dlq (readings parked after maxReceiveCount receives)."
  value = {
    source = aws_sqs_queue.source.url
    dlq    = aws_sqs_queue.dlq.url
  }
}
