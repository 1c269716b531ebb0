"""IAM policy documents built locally as JSON (no provider call, nothing to mock)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi

from ._validation import PolicyStatement

ROLE_NAME_MAX = 64


def assume_role_policy(sid: str, service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": service},
                }
            ],
        }
    )


def policy_document(statements: Sequence[PolicyStatement]) -> pulumi.Output[str]:
    """An identity policy of Allow statements; resources may be Outputs (e.g. ARNs)."""
    sids = [s.sid for s in statements]
    actions = [list(s.actions) for s in statements]
    resources = [pulumi.Output.all(*s.resources) for s in statements]

    def render(resolved: list[list[str]]) -> str:
        body: list[dict[str, Any]] = [
            {"Sid": sid, "Effect": "Allow", "Action": acts, "Resource": list(res)}
            for sid, acts, res in zip(sids, actions, resolved, strict=True)
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": body})

    return pulumi.Output.all(*resources).apply(render)


def role_naming(base: str, suffix: str) -> dict[str, str]:
    """`<base><suffix>` if it fits IAM's 64 characters, else a generated name (like Terraform)."""
    name = f"{base}{suffix}"
    if len(name) <= ROLE_NAME_MAX:
        return {"name": name}
    return {"name_prefix": f"{base[:37]}-"}
