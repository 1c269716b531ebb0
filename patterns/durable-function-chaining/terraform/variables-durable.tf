# This pattern's own inputs; variables.tf holds those every pattern root takes.

variable "execution_timeout_seconds" {
  description = "Longest a durable order execution may run, waits included (the settlement period is at most 7 days)."
  type        = number
  default     = 691200 # 8 days

  validation {
    condition     = var.execution_timeout_seconds >= 60 && var.execution_timeout_seconds <= 31622400 && floor(var.execution_timeout_seconds) == var.execution_timeout_seconds
    error_message = "execution_timeout_seconds must be a whole number from 60 to 31622400 (366 days)."
  }
}

variable "execution_history_retention_days" {
  description = "Days Lambda keeps a finished execution's history (GetDurableExecutionHistory)."
  type        = number
  default     = 14

  validation {
    condition     = var.execution_history_retention_days >= 1 && var.execution_history_retention_days <= 90 && floor(var.execution_history_retention_days) == var.execution_history_retention_days
    error_message = "execution_history_retention_days must be a whole number from 1 to 90."
  }
}
