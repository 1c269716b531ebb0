# What every pattern root declares the same way, from the locals of its own main.tf:
#   code_package, service_name   its Python package in src/ and its Powertools service name;
#   tables                       role -> { hash_key, optional ttl_attribute, stream_view_type };
#   functions                    short name -> { description, optional timeout, environment,
#                                policy_statements, layers, publish } (zips: <short name>.zip);
#   other_function_names         short name -> name of a function it declares itself (a durable
#                                orchestrator), or {};
#   other_log_group_names        the log groups of anything else it declares (state machine, API).

module "tables" {
  source              = "../../../terraform/modules/dynamodb-tables"
  name_prefix         = local.name_prefix
  tables              = local.tables
  deletion_protection = var.deletion_protection
}

module "functions" {
  source             = "../../../terraform/modules/python-functions"
  name_prefix        = local.name_prefix
  code_package       = local.code_package
  artifacts_dir      = local.artifacts_dir
  service_name       = local.service_name
  log_retention_days = var.log_retention_days
  functions          = local.functions
}

output "table_names" {
  description = "Table names by role (the keys of local.tables)."
  value       = module.tables.names
}

output "function_names" {
  description = "Deployed function names by short name: the keys of local.functions and local.other_function_names."
  value       = merge(module.functions.function_names, local.other_function_names)
}

output "log_group_names" {
  description = "Every log group of the pattern: its functions' (in short-name order), then local.other_log_group_names."
  value       = concat(module.functions.log_group_names, local.other_log_group_names)
}
