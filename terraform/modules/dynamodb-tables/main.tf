# The tables of a pattern: one dynamodb-table per entry, named after the pattern's prefix, all with
# the same deletion protection. Attribute checks (key names, stream view types) are dynamodb-table's.
module "table" {
  source   = "../dynamodb-table"
  for_each = var.tables

  name                = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  hash_key            = each.value.hash_key
  ttl_attribute       = each.value.ttl_attribute
  stream_view_type    = each.value.stream_view_type
  deletion_protection = var.deletion_protection
}
