"""What the saga deploys, as data: its tables and each function's least-privilege table access.

The same matrix as the locals of ../terraform/main.tf, so both engines grant exactly the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi

from catalog_pulumi import PolicyStatement

# table key -> partition key; deployed as "<prefix>-<key>"
TABLES: dict[str, str] = {"orders": "order_id", "inventory": "sku", "payments": "idempotency_key"}


@dataclass(frozen=True)
class SagaFunction:
    name: str  # short name, e.g. "charge-payment"
    description: str
    access: Mapping[str, tuple[str, ...]]  # table key -> DynamoDB actions

    @property
    def placeholder(self) -> str:
        """Its ARN's placeholder in the ASL file: ChargePaymentFunctionArn."""
        return "".join(part.title() for part in self.name.split("-")) + "FunctionArn"


FUNCTIONS: tuple[SagaFunction, ...] = (
    SagaFunction(
        "create-order",
        "Saga step: records a new order as PENDING.",
        {"orders": ("dynamodb:PutItem",)},
    ),
    SagaFunction(
        "reserve-inventory",
        "Saga step: reserves stock for the order.",
        {"inventory": ("dynamodb:UpdateItem",), "orders": ("dynamodb:UpdateItem",)},
    ),
    SagaFunction(
        "charge-payment",
        "Saga step: charges the payment once per idempotency key.",
        {"payments": ("dynamodb:PutItem", "dynamodb:GetItem"), "orders": ("dynamodb:UpdateItem",)},
    ),
    SagaFunction(
        "ship-order",
        "Saga step: marks the order shipped.",
        {"orders": ("dynamodb:UpdateItem",)},
    ),
    SagaFunction(
        "refund-payment",
        "Compensation: refunds a charged payment.",
        {
            "payments": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            "orders": ("dynamodb:UpdateItem",),
        },
    ),
    SagaFunction(
        "release-inventory",
        "Compensation: releases reserved stock.",
        {"inventory": ("dynamodb:UpdateItem",), "orders": ("dynamodb:UpdateItem",)},
    ),
    SagaFunction(
        "cancel-order",
        "Compensation: marks the order cancelled.",
        {"orders": ("dynamodb:UpdateItem",)},
    ),
)


def table_statements(
    fn: SagaFunction, table_arns: Mapping[str, pulumi.Input[str]]
) -> list[PolicyStatement]:
    """One statement per table, in table order (as Terraform iterates the map): OrdersTable, ..."""
    return [
        PolicyStatement(
            sid=f"{table.title()}Table", actions=list(actions), resources=[table_arns[table]]
        )
        for table, actions in sorted(fn.access.items())
    ]


def code_paths(built: Mapping[str, Path]) -> dict[str, Path]:
    """The zip of every function; the sources and this matrix must name the same functions."""
    declared = {fn.name for fn in FUNCTIONS}
    if set(built) != declared:
        raise ValueError(
            f"built functions {sorted(built)} differ from the declared ones {sorted(declared)}: "
            "update FUNCTIONS in saga_matrix.py (and ../terraform/main.tf) with the sources"
        )
    return dict(built)
