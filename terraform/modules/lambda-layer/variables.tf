variable "layer_name" {
  description = "Name of the Lambda layer; every version of it shares this name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,140}$", var.layer_name))
    error_message = "layer_name must be 1-140 characters of letters, digits, hyphens and underscores."
  }
}

variable "description" {
  description = "Description of the layer version shown in the Lambda console."
  type        = string
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "filename" {
  description = "Path to the prebuilt layer zip; Python packages under python/ (the catalog builds it: build/layer.zip)."
  type        = string

  validation {
    condition     = endswith(var.filename, ".zip")
    error_message = "filename must point to a .zip file."
  }

  validation {
    condition     = fileexists(var.filename)
    error_message = "filename does not exist: build the layer first (catalog build <pattern>)."
  }
}

variable "compatible_runtimes" {
  description = "Lambda runtimes the layer's packages were built for (its wheels are for one Python version)."
  type        = list(string)
  default     = ["python3.13"]

  validation {
    condition     = length(var.compatible_runtimes) >= 1 && length(var.compatible_runtimes) <= 15 && alltrue([for r in var.compatible_runtimes : contains(["python3.11", "python3.12", "python3.13"], r)])
    error_message = "compatible_runtimes must list 1-15 of python3.11, python3.12, python3.13."
  }
}

variable "compatible_architectures" {
  description = "Instruction set architectures the layer's wheels were built for: x86_64 and/or arm64."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.compatible_architectures) >= 1 && length(var.compatible_architectures) <= 2 && alltrue([for a in var.compatible_architectures : contains(["x86_64", "arm64"], a)])
    error_message = "compatible_architectures must list x86_64, arm64 or both."
  }
}
