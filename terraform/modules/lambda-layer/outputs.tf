output "arn" {
  description = "ARN of this layer version (what a function's `layers` lists)."
  value       = aws_lambda_layer_version.this.arn
}

output "layer_arn" {
  description = "ARN of the layer, without the version."
  value       = aws_lambda_layer_version.this.layer_arn
}

output "version" {
  description = "Number of this layer version."
  value       = aws_lambda_layer_version.this.version
}

output "code_size" {
  description = "Size of the layer's zip in bytes, as Lambda stores it."
  value       = aws_lambda_layer_version.this.source_code_size
}
