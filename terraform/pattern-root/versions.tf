terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # No version here: the shared modules state the range they need (python-function: >= 6.25,
      # for durable_config), and Terraform applies every module's constraint to the root.
    }
  }
}

# Region and credentials come from the environment (AWS_REGION / AWS_PROFILE or the usual AWS
# credential chain); nothing is hard-coded here.
provider "aws" {}
