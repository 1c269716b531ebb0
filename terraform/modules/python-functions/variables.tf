variable "name_prefix" {
  description = "Prefix of every function name: each function is named \"<name_prefix>-<key>\" (python-function validates the name)."
  type        = string
}

variable "code_package" {
  description = "The pattern's Python package in src/: the handler of function <key> is \"<code_package>.functions.<key with - as _>.handler\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*$", var.code_package))
    error_message = "code_package must be a Python package name (letters, digits, underscores), e.g. sfn_saga."
  }
}

variable "artifacts_dir" {
  description = "Folder holding one <key>.zip per function (`catalog build <pattern>` writes them)."
  type        = string
}

variable "service_name" {
  description = "Powertools service name of every function (POWERTOOLS_SERVICE_NAME; see python-function)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention in days of every function's log group; one of the values CloudWatch Logs accepts (python-function validates it)."
  type        = number
  default     = 14
}

variable "functions" {
  description = "One function per entry, by short name (the key): its description, timeout (seconds, 10), environment variables, least-privilege policy statements, layer version ARNs and whether to publish numbered versions (see python-function)."
  type = map(object({
    description = string
    timeout     = optional(number, 10)
    environment = optional(map(string), {})
    policy_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })), [])
    layers  = optional(list(string), [])
    publish = optional(bool, false)
  }))

  validation {
    condition     = length(var.functions) > 0 && alltrue([for key in keys(var.functions) : can(regex("^[a-z][a-z0-9-]*$", key))])
    error_message = "functions must have at least one entry, keyed by lowercase letters, digits and hyphens (the zip and module name)."
  }
}
