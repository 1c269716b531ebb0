"""Transactional outbox: an order service that never loses or invents an event.

create-order writes the order and its outbox record in one DynamoDB transaction; relay publishes
outbox records from the table's stream to an EventBridge bus; consumer applies each event once.
"""
