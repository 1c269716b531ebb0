"""6. A real Terraform cycle on the embedded AWS leaves nothing behind, and can be repeated.

The cycle deploys a fresh `catalog export` of the pattern (issue 14: one cycle proves both): the
export's own build.py builds the zips, then init -> validate -> apply with the vendored modules ->
`plan -detailed-exitcode` (with refresh) says no changes -> every scenario meets its expectation ->
destroy -> the inventory of every service is empty -> apply again works (and is destroyed).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from catalog.deploy import CycleError, cycle
from catalog.engines import pulumi_cli
from catalog.export import export_pattern
from catalog.localaws import LocalAws
from catalog.patterns import Pattern, discover, load
from catalog.resources import from_hcl
from catalog.testing import EmbeddedAwsFailed, require_terraform


class NotExercisedLocally(UserWarning):
    """A setting the runner removed from its temporary copy for the offline provider."""


@pytest.mark.deploy
def test_deploy_destroy_cycle(pattern: Pattern) -> None:
    require_terraform()
    # An embedded AWS of its own, so the leftover inventory sees only this pattern.
    steps: list[str] = []
    with LocalAws() as aws:
        report = cycle(pattern, aws, steps.append, reapply=True)
        assert aws.inventory() == {k: [] for k in aws.inventory()}
        for failure in aws.failures.since(0):
            warnings.warn(EmbeddedAwsFailed(f"{pattern.name}: {failure}"), stacklevel=1)
    # Deployed from the export: built by its build.py, validated and applied from its files.
    assert report.export_files and report.export_bytes
    assert steps[:2] == [
        f"export ({pattern.name})",
        f"exported to a temporary folder: {report.export_files} files, "
        f"{report.export_bytes:,} bytes",
    ]
    assert {"build", "init", "validate", "apply", "plan", "destroy"} <= set(report.timings)
    assert report.drift is False
    assert {r.scenario for r in report.results} == set(pattern.scenarios)
    assert report.leftovers == {}
    for adaptation in report.adaptations:
        # The test report's warnings summary names what the local provider could not exercise.
        warnings.warn(NotExercisedLocally(f"{pattern.name}: {adaptation}"), stacklevel=1)


@pytest.mark.deploy
def test_pulumi_up_destroy_cycle(pattern: Pattern) -> None:
    if not pulumi_cli.pulumi_available():
        pytest.skip(
            "the Pulumi CLI is not on PATH: the real Pulumi cycle needs it (programs are checked under mocks)"
        )
    with LocalAws() as aws:
        assert pulumi_cli.cycle(pattern, print, aws=aws) == 0
        assert not any(aws.inventory().values())


@pytest.mark.deploy
def test_cycle_fails_when_a_resource_survives_destroy(tmp_path: Path) -> None:
    """A deliberately broken export of the smallest pattern: one more log group, kept on destroy.
    The cycle deploys that export as it is, and must fail and name it (the leftover inventory is
    what proves claim 6)."""
    require_terraform()
    smallest = min(discover(), key=lambda p: len(from_hcl(p.terraform_dir)))
    copy = export_pattern(smallest, tmp_path / smallest.name).dest
    kept = f"/catalog/planted/{smallest.name}-kept"
    (copy / "terraform" / "planted.tf").write_text(
        'resource "aws_cloudwatch_log_group" "kept" {\n'
        f'  name              = "{kept}"\n'
        "  retention_in_days = 14\n"
        "  skip_destroy      = true\n"
        "}\n"
    )
    with (
        LocalAws() as aws,
        pytest.raises(CycleError, match="resources left after destroy") as failure,
    ):
        cycle(load(str(copy)), aws)
    assert kept in str(failure.value)
