variable "name_prefix" {
  description = "Prefix of every resource name (table, function, role, log group)."
  type        = string
  default     = "model-pattern"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of lowercase letters, digits and hyphens."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <function-name>.zip per function; null (or empty) means \"<this folder>/../build\", where `catalog build model-pattern` writes them."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention in days of every log group; one of the values CloudWatch Logs accepts (the shared modules it is passed to validate it)."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Enable deletion protection on the table. False so the demo destroys cleanly; set true in production."
  type        = bool
  default     = false
}
