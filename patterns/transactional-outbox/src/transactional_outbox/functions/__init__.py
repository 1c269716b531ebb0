"""One module per Lambda function (see shared/README.md)."""
