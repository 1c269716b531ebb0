"""Adapters from each IaC engine to `catalog.resources.Resource`, the model the policies read."""
