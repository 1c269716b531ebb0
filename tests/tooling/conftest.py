"""The embedded AWS's own tests each start a LocalAws of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.localaws import LocalAws


def exclusive() -> None:
    # moto's state is process-wide, so one LocalAws runs at a time. The catalog.testing plugin runs
    # these tests before the session's `local_aws` starts; this guards a run that reorders them.
    if LocalAws.running() is not None:
        pytest.skip("another LocalAws is running in this session (the `local_aws` fixture)")


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    exclusive()
    with LocalAws() as local:
        yield local
