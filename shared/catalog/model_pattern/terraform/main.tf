locals {
  default_name_prefix = "model-pattern"
  code_package        = "model_pattern"
  service_name        = "model-pattern"

  tables = {
    records = { hash_key = "id" }
  }

  functions = {
    "put-record" = {
      description = "Validates a record and stores it once per id."
      environment = { RECORDS_TABLE = module.tables.names["records"] }
      # Least privilege: the two calls the code makes, on this table only.
      policy_statements = [
        {
          sid       = "RecordsTable"
          actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
          resources = [module.tables.arns["records"]]
        }
      ]
    }
  }

  other_function_names  = {}
  other_log_group_names = []
}
