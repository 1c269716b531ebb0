terraform {
  required_version = ">= 1.6"
  # No provider requirement: this module has no resources of its own, and python-function (which
  # it calls) states the aws provider range it needs.
}
