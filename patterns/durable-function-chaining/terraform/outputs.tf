output "orchestrator_alias_arn" {
  description = "ARN of the orchestrator's live alias: start executions here (a qualified ARN is required)."
  value       = aws_lambda_alias.orchestrator.arn
}
