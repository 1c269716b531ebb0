terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The shared python-function module takes durable_config, which arrived in provider 6.25.0.
      version = ">= 6.25, < 7.0"
    }
  }
}

# Region and credentials come from the environment (AWS_REGION / AWS_PROFILE or the usual AWS
# credential chain); nothing is hard-coded here.
provider "aws" {}
