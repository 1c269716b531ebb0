terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0"
    }
  }
}

# Region and credentials come from the environment (AWS_REGION / AWS_PROFILE or the usual AWS
# credential chain); nothing is hard-coded here.
provider "aws" {}
