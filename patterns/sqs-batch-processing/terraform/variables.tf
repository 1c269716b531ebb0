variable "name_prefix" {
  description = "Prefix of every resource name (queues, tables, functions, roles, log groups)."
  type        = string
  default     = "sqs-batch-processing"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of lowercase letters, digits and hyphens."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <function-name>.zip per function; null means \"<this folder>/../build\", where `catalog build sqs-batch-processing` writes them."
  type        = string
  default     = null

  validation {
    condition     = var.artifacts_dir == null ? true : length(trimspace(var.artifacts_dir)) > 0
    error_message = "artifacts_dir must be null (use ../build) or a non-empty path."
  }
}

variable "log_retention_days" {
  description = "Retention in days of every log group; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "deletion_protection" {
  description = "Enable deletion protection on the tables. False so the demo destroys cleanly; set true in production."
  type        = bool
  default     = false
}
