variable "name_prefix" {
  description = "Prefix of every resource name (tables, functions, queues, bus, API, roles)."
  type        = string
  default     = "txn-outbox"

  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of lowercase letters, digits and hyphens."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <function-name>.zip per function; null (or empty) means \"<this folder>/../build\", where `catalog build transactional-outbox` writes them."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention in days of every log group (three functions and the API access log); one of the values CloudWatch Logs accepts (the shared modules it is passed to validate it)."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Enable deletion protection on the tables. False so the demo destroys cleanly; set true in production."
  type        = bool
  default     = false
}
