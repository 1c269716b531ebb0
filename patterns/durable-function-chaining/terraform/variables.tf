variable "name_prefix" {
  description = "Prefix of every resource name (tables, functions, aliases, roles)."
  type        = string
  default     = "durable-chain"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of lowercase letters, digits and hyphens."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <function-name>.zip per function; null (or empty) means \"<this folder>/../build\", where `catalog build durable-function-chaining` writes them."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention in days of every function's log group; one of the values CloudWatch Logs accepts (the shared modules it is passed to validate it)."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Enable deletion protection on the tables. False so the demo destroys cleanly; set true in production."
  type        = bool
  default     = false
}

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
