# The pattern's own outputs go here; catalog.tf (linked from terraform/pattern-root/) declares
# table_names, function_names and log_group_names.
