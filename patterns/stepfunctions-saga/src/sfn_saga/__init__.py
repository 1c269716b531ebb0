"""Order saga orchestrated by AWS Step Functions: one Lambda function per step or compensation."""
