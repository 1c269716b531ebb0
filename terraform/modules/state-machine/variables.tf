variable "name" {
  description = "Name of the state machine; also names its log group (/aws/vendedlogs/states/<name>) and role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1-80 characters of letters, digits, hyphens and underscores."
  }
}

variable "definition" {
  description = "Rendered Amazon States Language definition (a JSON string, e.g. from templatefile())."
  type        = string

  validation {
    condition     = can(jsondecode(var.definition))
    error_message = "definition must be valid JSON (render the ASL file with templatefile() first)."
  }

  validation {
    condition     = can(jsondecode(var.definition).StartAt) && can(jsondecode(var.definition).States)
    error_message = "definition must be an Amazon States Language document with StartAt and States."
  }
}

variable "type" {
  description = "Workflow type: STANDARD or EXPRESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.type)
    error_message = "type must be STANDARD or EXPRESS."
  }
}

variable "lambda_function_arns" {
  description = "Unqualified ARNs of the Lambda functions the state machine invokes; the role may invoke exactly these (and their versions/aliases)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.lambda_function_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$", a))])
    error_message = "lambda_function_arns must be unqualified Lambda function ARNs (arn:<partition>:lambda:<region>:<account>:function:<name>)."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machine's log group in days; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Execution history logged to CloudWatch Logs: ALL, ERROR or FATAL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL."
  }
}

variable "include_execution_data" {
  description = "Whether logs include execution input/output (disable if payloads carry sensitive data)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
