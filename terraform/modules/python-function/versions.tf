terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # `durable_config` on aws_lambda_function arrived in provider 6.25.0.
      version = ">= 6.25, < 7.0"
    }
  }
}
