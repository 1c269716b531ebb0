variable "function_name" {
  description = "Name of the Lambda function; also names its log group (/aws/lambda/<name>) and execution role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, hyphens and underscores."
  }
}

variable "description" {
  description = "Description of the function shown in the Lambda console."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "handler" {
  description = "Python handler, '<module path>.<function>' inside the zip, e.g. 'my_pkg.functions.do_thing.handler'."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler)) && length(var.handler) <= 128
    error_message = "handler must be a dotted Python path ending in the handler function name (at most 128 characters), e.g. 'pkg.functions.fn.handler'."
  }
}

variable "filename" {
  description = "Path to the prebuilt deployment zip (the catalog builds zips itself; the archive provider is not used)."
  type        = string

  validation {
    condition     = endswith(var.filename, ".zip")
    error_message = "filename must point to a .zip file."
  }

  validation {
    condition     = fileexists(var.filename)
    error_message = "filename does not exist: build the function zips first (catalog build <pattern>)."
  }
}

variable "runtime" {
  description = "Lambda Python runtime."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be one of python3.11, python3.12, python3.13."
  }
}

variable "architectures" {
  description = "Instruction set architecture of the function: exactly one of x86_64 or arm64 (must match the wheels in the zip)."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.architectures) == 1 && alltrue([for a in var.architectures : contains(["x86_64", "arm64"], a)])
    error_message = "architectures must be a single-element list: [\"x86_64\"] or [\"arm64\"]."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number between 128 and 10240 (MB)."
  }
}

variable "timeout" {
  description = "Function timeout in seconds (1-900)."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "environment variable names must start with a letter, contain only letters, digits and underscores, and must not use the reserved AWS_ prefix."
  }
}

variable "service_name" {
  description = "Powertools service name of the function's logs and metrics: sets POWERTOOLS_SERVICE_NAME (and POWERTOOLS_LOG_LEVEL to powertools_log_level); null sets neither."
  type        = string
  default     = null

  validation {
    condition     = var.service_name == null ? true : can(regex("^[A-Za-z0-9_.-]{1,64}$", var.service_name))
    error_message = "service_name must be null or 1-64 letters, digits, dots, hyphens and underscores, e.g. the pattern's name."
  }
}

variable "powertools_log_level" {
  description = "Level of the function's Powertools Logger (POWERTOOLS_LOG_LEVEL), set with service_name."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.powertools_log_level)
    error_message = "powertools_log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_format" {
  description = "Log format of the function: JSON (structured, default) or Text."
  type        = string
  default     = "JSON"

  validation {
    condition     = contains(["JSON", "Text"], var.log_format)
    error_message = "log_format must be JSON or Text."
  }
}

variable "policy_statements" {
  description = "Extra Allow statements for the execution role (least privilege: name actions and resources explicitly). sid: letters and digits only, unique."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition = alltrue(flatten([
      for s in var.policy_statements : [
        for a in s.actions : a != "*" && !can(regex("^[A-Za-z0-9-]+:\\*$", a))
      ]
    ]))
    error_message = "policy_statements must not grant \"*\" or \"<service>:*\" actions: list the actions the function needs."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "every policy statement needs at least one action and one resource."
  }

  validation {
    condition = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.sid)) && s.sid != "WriteOwnLogGroup"]) && (
      length(distinct([for s in var.policy_statements : s.sid])) == length(var.policy_statements)
    )
    error_message = "policy statement sids must be non-empty, letters and digits only, unique, and not \"WriteOwnLogGroup\" (used by the module)."
  }
}

variable "managed_policy_arns" {
  description = "IAM managed policies attached to the execution role, e.g. an AWS service-role policy a Lambda feature needs. Must be known at plan time (they key a for_each). Broad policies (AdministratorAccess, *FullAccess) are rejected: prefer policy_statements."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.managed_policy_arns : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$", arn))])
    error_message = "managed_policy_arns must be IAM policy ARNs: arn:<partition>:iam::<aws or account id>:policy/[<path>/]<name>."
  }

  validation {
    condition = alltrue([
      for arn in var.managed_policy_arns :
      element(split("/", arn), length(split("/", arn)) - 1) != "AdministratorAccess" && !endswith(arn, "FullAccess")
    ])
    error_message = "managed_policy_arns must not grant broad access (AdministratorAccess or a *FullAccess policy): attach a narrower policy or use policy_statements."
  }
}

variable "publish" {
  description = "Publish a new numbered version on every code or configuration change (output `version`), e.g. for an alias to point at. False: only $LATEST."
  type        = bool
  default     = false
}

variable "durable_config" {
  description = "Lambda durable functions: null for an ordinary function, or the longest an execution may run, waits included (execution_timeout, seconds) and the days Lambda keeps a finished execution's history (retention_period, default 14). Only possible when the function is created. The role also needs the checkpoint permissions, e.g. the AWS managed policy service-role/AWSLambdaBasicDurableExecutionRolePolicy in managed_policy_arns."
  type = object({
    execution_timeout = number
    retention_period  = optional(number, 14)
  })
  default = null

  validation {
    condition = var.durable_config == null ? true : (
      var.durable_config.execution_timeout >= 1 && var.durable_config.execution_timeout <= 31622400 && floor(var.durable_config.execution_timeout) == var.durable_config.execution_timeout
    )
    error_message = "durable_config.execution_timeout must be a whole number of seconds from 1 to 31622400 (366 days)."
  }

  validation {
    condition = var.durable_config == null ? true : (
      var.durable_config.retention_period >= 1 && var.durable_config.retention_period <= 90 && floor(var.durable_config.retention_period) == var.durable_config.retention_period
    )
    error_message = "durable_config.retention_period must be a whole number of days from 1 to 90."
  }
}

variable "layers" {
  description = "ARNs of Lambda layer versions added to the function, in order (at most 5), e.g. a layer with dependencies several functions share."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5 && length(distinct(var.layers)) == length(var.layers)
    error_message = "layers must list at most 5 distinct layer version ARNs."
  }

  validation {
    condition     = alltrue([for arn in var.layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+$", arn))])
    error_message = "layers must be layer version ARNs: arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the function; -1 means unreserved, 0 throttles it."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be a whole number >= -1."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
