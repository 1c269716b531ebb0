locals {
  log_group_name = "/aws/lambda/${var.function_name}"

  # IAM role names are limited to 64 characters: fall back to a generated name for long function names.
  role_name        = "${var.function_name}-role"
  role_name_fits   = length(local.role_name) <= 64
  role_name_prefix = "${substr(var.function_name, 0, 37)}-"

  # Powertools reads its service name and log level from the environment: set here, so every
  # function given a service_name logs the same way.
  environment_variables = merge(var.environment_variables, var.service_name == null ? {} : {
    POWERTOOLS_SERVICE_NAME = var.service_name
    POWERTOOLS_LOG_LEVEL    = var.powertools_log_level
  })
}

# The log group is created (with retention) before the function, so Lambda never creates its own
# never-expiring group, and it is removed on destroy.
resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  skip_destroy      = false
  tags              = var.tags
}

# Computed locally by Terraform: no AWS call.
data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.role_name_fits ? local.role_name : null
  name_prefix        = local.role_name_fits ? null : local.role_name_prefix
  description        = "Execution role of Lambda function ${var.function_name}"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  # Write to this function's own log group only. No logs:CreateLogGroup: the group is managed here.
  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

# Managed policies the caller asks for (validated: no AdministratorAccess, no *FullAccess).
resource "aws_iam_role_policy_attachment" "managed" {
  for_each = toset(var.managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = var.architectures
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  package_type                   = "Zip"
  filename                       = var.filename
  source_code_hash               = filebase64sha256(var.filename)
  publish                        = var.publish
  layers                         = var.layers

  # Lambda durable functions (provider 6.25 or later). Durable execution can only be enabled when
  # the function is created: changing this later replaces the function.
  dynamic "durable_config" {
    for_each = var.durable_config == null ? [] : [var.durable_config]

    content {
      execution_timeout = durable_config.value.execution_timeout
      retention_period  = durable_config.value.retention_period
    }
  }

  dynamic "environment" {
    for_each = length(local.environment_variables) > 0 ? [1] : []

    content {
      variables = local.environment_variables
    }
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
    # What Lambda applies to JSON logs anyway (Text logs take no levels). Stated explicitly because
    # provider 5.x compares them literally when `publish` is true: left unset, every plan would
    # publish a new version (hashicorp/terraform-provider-aws#42181).
    application_log_level = var.log_format == "JSON" ? "INFO" : null
    system_log_level      = var.log_format == "JSON" ? "INFO" : null
  }

  tags = var.tags

  # The group must exist (with retention) before the first invocation, and the role must be able to
  # write to it; otherwise early logs are lost or Lambda creates a group of its own. Likewise every
  # permission (inline and managed) is in place before the function can be invoked.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.managed,
  ]
}
