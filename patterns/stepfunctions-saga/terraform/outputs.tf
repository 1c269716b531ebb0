output "state_machine_arn" {
  description = "ARN of the order saga state machine."
  value       = module.state_machine.arn
}

output "state_machine_name" {
  description = "Name of the order saga state machine."
  value       = module.state_machine.name
}
