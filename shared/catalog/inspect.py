"""The resource model of a pattern in each engine, for the policies.

Terraform: a plan of the real root (built zips, temporary workspace, embedded AWS endpoints, no
state) read as JSON, plus the HCL for what plan JSON omits. Pulumi: the program run under mocks with
every resource option recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .deploy import build
from .engines.terraform import TerraformWorkspace
from .patterns import Pattern
from .resources import (
    Resource,
    from_hcl,
    from_pulumi_graph,
    from_terraform_plan,
    from_terraform_state,
)

if TYPE_CHECKING:
    from .localaws import LocalAws

WorkspaceHook = Callable[[TerraformWorkspace], None]


def terraform_resources(
    pattern: Pattern,
    aws: LocalAws,
    variables: Mapping[str, object] | None = None,
    before_plan: WorkspaceHook | None = None,
) -> list[Resource]:
    """Plan the pattern's root; `before_plan` may edit the temporary copy (used to break it on purpose)."""
    build(pattern)
    with TerraformWorkspace(pattern, aws=aws, variables=dict(variables or {})) as workspace:
        if before_plan is not None:
            before_plan(workspace)
        workspace.init()
        plan = workspace.plan_json(refresh=False)
        return from_terraform_plan(plan, from_hcl(workspace.root))


def terraform_mock_resources(
    pattern: Pattern, before_evaluate: WorkspaceHook | None = None
) -> list[Resource]:
    """The root evaluated under `mock_provider`: every value known (what parity compares);
    `before_evaluate` may edit the temporary copy (used to break it on purpose)."""
    build(pattern)
    with TerraformWorkspace(pattern, mock_provider=True) as workspace:
        if before_evaluate is not None:
            before_evaluate(workspace)
        workspace.init()
        return from_terraform_state(workspace.mock_state(), from_hcl(workspace.root))


def pulumi_resources(program_dir: Path, config: Mapping[str, str] | None = None) -> list[Resource]:
    from .engines.pulumi_graph import record_program

    return from_pulumi_graph(record_program(program_dir, config=config))
