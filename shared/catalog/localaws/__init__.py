"""The embedded AWS: a moto server in this process, shims for its known gaps, an in-process Lambda
invoker that runs the deployed zips, fault injection, the Lambda event-source mapping pollers, API
Gateway HTTP APIs, and an inventory of what is still deployed.

    with LocalAws() as aws:
        aws.http_apis.request(endpoint + "/orders", "POST", body="{}")
        aws.settle()  # every stream and queue mapping runs until the stack is idle
"""

from .aws import LocalAws
from .event_sources import MappingActivity, Settled, SettleError
from .faults import Fault, FaultInjector, FaultPolicy
from .http_api import HttpApiError, HttpResponse
from .invoker import Invocation, LambdaContext

__all__ = [
    "Fault",
    "FaultInjector",
    "FaultPolicy",
    "HttpApiError",
    "HttpResponse",
    "Invocation",
    "LambdaContext",
    "LocalAws",
    "MappingActivity",
    "SettleError",
    "Settled",
]
