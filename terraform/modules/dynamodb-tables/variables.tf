variable "name_prefix" {
  description = "Prefix of every table name: each table is named \"<name_prefix>-<key>\" (underscores in the key become hyphens; dynamodb-table validates the name)."
  type        = string
}

variable "tables" {
  description = "One table per entry, by role (the key): its string partition key, and optionally a Time to Live attribute and a stream view type (see dynamodb-table)."
  type = map(object({
    hash_key         = string
    ttl_attribute    = optional(string)
    stream_view_type = optional(string)
  }))

  validation {
    condition     = length(var.tables) > 0 && alltrue([for key in keys(var.tables) : can(regex("^[a-z0-9_-]{1,64}$", key))])
    error_message = "tables must have at least one entry, keyed by 1-64 lowercase letters, digits, hyphens or underscores."
  }
}

variable "deletion_protection" {
  description = "Enable deletion protection on every table. False by default so demo tables are destroyable; set true in production."
  type        = bool
  default     = false
}
