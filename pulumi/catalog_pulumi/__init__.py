"""Reusable Pulumi components for the catalog patterns."""
