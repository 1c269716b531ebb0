# One version of a Lambda layer from a prebuilt zip. A code change publishes a new version (the
# zip's hash is part of the version); destroy deletes every version this state created.
resource "aws_lambda_layer_version" "this" {
  layer_name               = var.layer_name
  description              = var.description
  filename                 = var.filename
  source_code_hash         = filebase64sha256(var.filename)
  compatible_runtimes      = var.compatible_runtimes
  compatible_architectures = var.compatible_architectures
  # Stated explicitly: true would keep every old version after destroy.
  skip_destroy = false
}
