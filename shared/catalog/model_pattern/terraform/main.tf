locals {
  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../build")
}

module "records" {
  source = "../../../terraform/modules/dynamodb-table"

  name                = "${var.name_prefix}-records"
  hash_key            = "id"
  hash_key_type       = "S"
  deletion_protection = var.deletion_protection
}

module "put_record" {
  source = "../../../terraform/modules/python-function"

  function_name      = "${var.name_prefix}-put-record"
  description        = "Validates a record and stores it once per id."
  handler            = "model_pattern.functions.put_record.handler"
  filename           = "${local.artifacts_dir}/put-record.zip"
  log_retention_days = var.log_retention_days

  environment_variables = {
    RECORDS_TABLE           = module.records.name
    POWERTOOLS_SERVICE_NAME = "model-pattern"
  }

  # Least privilege: the two calls the code makes, on this table only.
  policy_statements = [
    {
      sid       = "RecordsTable"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [module.records.arn]
    }
  ]
}
