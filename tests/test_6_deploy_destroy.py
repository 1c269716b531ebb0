"""6. A real Terraform cycle on the embedded AWS leaves nothing behind, and can be repeated.

apply -> `plan -detailed-exitcode` says no changes -> every scenario meets its expectation ->
destroy -> the inventory of every service is empty -> apply again works (and is destroyed).
"""

from __future__ import annotations

import warnings

import pytest

from catalog.deploy import cycle
from catalog.engines import pulumi_cli
from catalog.localaws import LocalAws
from catalog.patterns import Pattern
from catalog.testing import require_terraform


class NotExercisedLocally(UserWarning):
    """A setting the runner removed from its temporary copy for the offline provider."""


@pytest.mark.deploy
def test_deploy_destroy_cycle(pattern: Pattern) -> None:
    require_terraform()
    # An embedded AWS of its own, so the leftover inventory sees only this pattern.
    with LocalAws() as aws:
        report = cycle(pattern, aws, reapply=True)
        assert aws.inventory() == {k: [] for k in aws.inventory()}
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
