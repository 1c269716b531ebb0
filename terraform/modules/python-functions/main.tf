# The ordinary functions of a pattern: one python-function per entry, named after the pattern's
# prefix, whose handler and zip follow from the key (the layout `catalog build` produces).
module "function" {
  source   = "../python-function"
  for_each = var.functions

  function_name         = "${var.name_prefix}-${each.key}"
  description           = each.value.description
  handler               = "${var.code_package}.functions.${replace(each.key, "-", "_")}.handler"
  filename              = "${var.artifacts_dir}/${each.key}.zip"
  timeout               = each.value.timeout
  service_name          = var.service_name
  environment_variables = each.value.environment
  policy_statements     = each.value.policy_statements
  log_retention_days    = var.log_retention_days
  layers                = each.value.layers
  publish               = each.value.publish
}
