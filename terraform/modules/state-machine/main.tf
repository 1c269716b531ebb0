locals {
  # Vended-logs prefix: CloudWatch Logs resource policies for Step Functions stay small under it.
  log_group_name = "/aws/vendedlogs/states/${var.name}"

  # IAM role names are limited to 64 characters: fall back to a generated name for long names.
  role_name        = "${var.name}-sfn-role"
  role_name_fits   = length(local.role_name) <= 64
  role_name_prefix = "${substr(var.name, 0, 37)}-"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  skip_destroy      = false
  tags              = var.tags
}

# Computed locally by Terraform: no AWS call.
data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "StatesAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.role_name_fits ? local.role_name : null
  name_prefix        = local.role_name_fits ? null : local.role_name_prefix
  description        = "Execution role of state machine ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  # Invoke exactly the given functions, and their versions and aliases.
  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid       = "InvokeTaskFunctions"
      effect    = "Allow"
      actions   = ["lambda:InvokeFunction"]
      resources = concat(var.lambda_function_arns, [for arn in var.lambda_function_arns : "${arn}:*"])
    }
  }

  # Step Functions delivers execution logs through CloudWatch Logs "vended log" deliveries. These
  # actions do not support resource-level permissions: AWS only accepts Resource "*" for them
  # (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). They manage log deliveries
  # and resource policies only; they grant no access to log data.
  statement {
    sid    = "LogDeliveryResourceStarOnly"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  type       = var.type
  role_arn   = aws_iam_role.this.arn
  definition = var.definition

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tags = var.tags

  # Step Functions checks the role's permissions (log delivery, invoke) when the machine is created.
  depends_on = [aws_iam_role_policy.this]
}
