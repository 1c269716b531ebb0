"""The embedded AWS: a moto server in this process, shims for its known gaps, an in-process Lambda
invoker that runs the deployed zips, fault injection and an inventory of what is still deployed.

    with LocalAws() as aws:
        aws.client("lambda").invoke(FunctionName="...")
"""

from .aws import LocalAws
from .faults import Fault, FaultInjector, FaultPolicy
from .invoker import Invocation, LambdaContext

__all__ = ["Fault", "FaultInjector", "FaultPolicy", "Invocation", "LambdaContext", "LocalAws"]
