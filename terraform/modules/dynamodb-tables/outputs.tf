output "names" {
  description = "Table names by role (the keys of `tables`)."
  value       = { for key, table in module.table : key => table.name }
}

output "arns" {
  description = "Table ARNs by role."
  value       = { for key, table in module.table : key => table.arn }
}

output "stream_arns" {
  description = "Stream ARNs by role (empty for a table without a stream)."
  value       = { for key, table in module.table : key => table.stream_arn }
}
