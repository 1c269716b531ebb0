"""The resource model of a pattern in each engine, for the policies.

Terraform: a plan of the real root (built zips, temporary workspace, embedded AWS endpoints, no
state) read as JSON, plus the HCL for what plan JSON omits. Pulumi: the program run under mocks with
every resource option recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
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
# The key of the pattern's own root among the models `terraform_plans` returns.
ROOT = ""


@dataclass(frozen=True)
class Variant:
    """A deliberately changed copy of a pattern's root (other variables, or `edit` applied to
    its temporary copy), modelled in the same Terraform run as the root itself."""

    variables: Mapping[str, object] = field(default_factory=dict)
    edit: WorkspaceHook | None = None


def terraform_plans(
    pattern: Pattern, aws: LocalAws, variants: Mapping[str, Variant]
) -> dict[str, list[Resource]]:
    """The plan of the root (key `ROOT`) and of each variant, from one `terraform plan`: each
    variant is a module call of the root (`TerraformWorkspace.add_variant`), so the provider
    starts once for all of them. Each model is what planning that copy alone gives."""
    build(pattern)
    with TerraformWorkspace(pattern, aws=aws) as workspace:
        hcl = from_hcl(workspace.root)
        prefixes = _add_variants(workspace, variants, hcl)
        workspace.init()
        plan = workspace.plan_json(refresh=False)
        return split_variants(from_terraform_plan(plan, hcl), prefixes)


def terraform_mock_models(
    pattern: Pattern, variants: Mapping[str, Variant]
) -> dict[str, list[Resource]]:
    """The root (key `ROOT`) and each variant evaluated under `mock_provider`: every value known
    (what parity compares), from one mocked evaluation (the variants are module calls of the
    root, as in `terraform_plans`)."""
    build(pattern)
    with TerraformWorkspace(pattern, mock_provider=True) as workspace:
        hcl = from_hcl(workspace.root)
        prefixes = _add_variants(workspace, variants, hcl)
        workspace.init()
        return split_variants(from_terraform_state(workspace.mock_state(), hcl), prefixes)


def _add_variants(
    workspace: TerraformWorkspace, variants: Mapping[str, Variant], hcl: list[Resource]
) -> dict[str, str]:
    """Each variant added to the workspace; its HCL (prefixed) appended to `hcl`."""
    prefixes = {}
    for name, variant in variants.items():
        prefix = workspace.add_variant(name, variant.variables, variant.edit)
        variant_root = (
            workspace.base / "variants" / name / workspace.root.relative_to(workspace.base)
        )
        hcl.extend(replace(r, address=f"{prefix}{r.address}") for r in from_hcl(variant_root))
        prefixes[name] = prefix
    return prefixes


def split_variants(
    resources: Iterable[Resource], prefixes: Mapping[str, str]
) -> dict[str, list[Resource]]:
    """Resources per variant, each variant's addresses (and the addresses it refers to) without
    its module prefix, as if its copy had been the root; the rest under `ROOT`."""
    models: dict[str, list[Resource]] = {ROOT: [], **{name: [] for name in prefixes}}
    for resource in resources:
        name = next((n for n, p in prefixes.items() if resource.address.startswith(p)), ROOT)
        if name == ROOT:
            models[ROOT].append(resource)
            continue
        prefix = prefixes[name]
        models[name].append(
            replace(
                resource,
                address=resource.address.removeprefix(prefix),
                refs={
                    k: tuple(a.removeprefix(prefix) for a in v) for k, v in resource.refs.items()
                },
                depends_on=tuple(a.removeprefix(prefix) for a in resource.depends_on),
            )
        )
    return models


def pulumi_resources(program_dir: Path, config: Mapping[str, str] | None = None) -> list[Resource]:
    from .engines.pulumi_graph import record_program

    return from_pulumi_graph(record_program(program_dir, config=config))
