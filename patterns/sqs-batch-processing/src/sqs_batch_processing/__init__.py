"""Sensor readings from an Amazon SQS queue, applied once each to Amazon DynamoDB.

`readings` is the message contract, `ledger` the effect (one conditional transaction per
message), `sdk` the boto3 clients; `functions/` holds the processor (the queue's consumer) and
the redrive function (dead-letter queue -> source queue).
"""
