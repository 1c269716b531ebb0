"""One module per Lambda function, each with `handler(event, context)`."""
