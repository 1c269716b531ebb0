"""One module per AWS Lambda function, each with `handler(event, context)`."""
