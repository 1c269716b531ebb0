"""Engine runners: Terraform workspaces, the Pulumi graph under mocks, the Pulumi CLI."""
