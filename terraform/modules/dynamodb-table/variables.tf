variable "name" {
  description = "Name of the DynamoDB table."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, underscores, hyphens and dots."
  }
}

variable "hash_key" {
  description = "Partition key attribute name."
  type        = string

  validation {
    condition     = length(var.hash_key) >= 1 && length(var.hash_key) <= 255
    error_message = "hash_key must be 1-255 characters."
  }
}

variable "hash_key_type" {
  description = "Partition key type: S (string), N (number) or B (binary)."
  type        = string
  default     = "S"

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key_type)
    error_message = "hash_key_type must be S, N or B."
  }
}

variable "range_key" {
  description = "Sort key attribute name, or null for a table without a sort key."
  type        = string
  default     = null

  validation {
    condition     = var.range_key == null ? true : (length(var.range_key) >= 1 && length(var.range_key) <= 255)
    error_message = "range_key must be null or 1-255 characters."
  }
}

variable "range_key_type" {
  description = "Sort key type: S, N or B (used only when range_key is set)."
  type        = string
  default     = "S"

  validation {
    condition     = contains(["S", "N", "B"], var.range_key_type)
    error_message = "range_key_type must be S, N or B."
  }
}

variable "ttl_attribute" {
  description = "Attribute holding the expiry epoch (seconds) for Time to Live, or null to leave TTL disabled."
  type        = string
  default     = null

  validation {
    condition     = var.ttl_attribute == null ? true : (length(var.ttl_attribute) >= 1 && length(var.ttl_attribute) <= 255)
    error_message = "ttl_attribute must be null or 1-255 characters."
  }
}

variable "stream_view_type" {
  description = "DynamoDB Streams view type (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES), or null for no stream."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null ? true : contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], var.stream_view_type)
    error_message = "stream_view_type must be null, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  }
}

variable "deletion_protection" {
  description = "Enable deletion protection. False by default so demo tables are destroyable; set true in production."
  type        = bool
  default     = false
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery (continuous backups)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to the table."
  type        = map(string)
  default     = {}
}
