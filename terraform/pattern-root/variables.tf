# The inputs every pattern root takes, with the same meaning and checks in each (the Pulumi
# programs read the same settings through catalog_pulumi.pattern_settings).

variable "name_prefix" {
  description = "Prefix of every resource name (tables, functions, roles, log groups, ...); null means the pattern's own default, local.default_name_prefix in its main.tf."
  type        = string
  default     = null

  validation {
    condition     = var.name_prefix == null ? true : can(regex("^[a-z0-9-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters of lowercase letters, digits and hyphens (or null for the pattern's default), e.g. -var name_prefix=my-test."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <function-name>.zip per function (and layer.zip where the pattern has a layer); null (or empty) means \"<this folder>/../build\", where `catalog build <pattern>` writes them."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention in days of every log group; one of the values CloudWatch Logs accepts (the shared modules it is passed to validate it)."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Enable deletion protection on the tables. False so the demo destroys cleanly; set true in production."
  type        = bool
  default     = false
}

locals {
  # What the pattern's resources use: the inputs with their defaults applied.
  name_prefix   = coalesce(var.name_prefix, local.default_name_prefix)
  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../build")
}
