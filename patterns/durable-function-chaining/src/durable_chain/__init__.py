"""Order processing with Lambda durable functions: one durable orchestrator chains four workers.

`functions/orchestrator.py` is the durable function; `functions/{inventory,payment,shipping,
notification}.py` are ordinary Lambda functions it calls with `context.invoke`. The rest of the
package is shared code (relative imports only, see shared/README.md).
"""
