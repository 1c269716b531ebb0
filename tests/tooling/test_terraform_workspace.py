"""The Terraform workspace's lifecycle: a temporary workspace is made once and, once removed, never
made again (every run leaves no temp folder behind), and the state of a real-AWS workspace is
kept where the leftover report says it is."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import deploy, interrupts
from catalog.engines.terraform import TerraformError, TerraformWorkspace, WorkspaceRemoved
from catalog.patterns import Pattern

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "patterns" / "tiny-echo"


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder `tempfile` makes temporary workspaces in, for this test alone."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root


def test_a_removed_workspace_never_makes_another_folder(temp_root: Path) -> None:
    workspace = TerraformWorkspace(Pattern(FIXTURE), mock_provider=True).prepare()
    (made,) = temp_root.iterdir()
    assert made.name.startswith("catalog-tf-tiny-echo-") and workspace.root.is_dir()
    workspace.cleanup()
    assert list(temp_root.iterdir()) == []
    # What callers do after a cleanup: the leftover check, a second cleanup (deploy.clean_up).
    assert workspace.state_addresses() == []
    assert list(temp_root.iterdir()) == []
    assert deploy.clean_up(workspace) == []
    workspace.cleanup()
    assert list(temp_root.iterdir()) == []
    for use in (lambda: workspace.base, lambda: workspace.root, workspace.validate):
        with pytest.raises(WorkspaceRemoved, match="tiny-echo was used after cleanup"):
            use()
    assert list(temp_root.iterdir()) == []


def test_a_workspace_never_made_is_not_made_to_read_its_state(temp_root: Path) -> None:
    workspace = TerraformWorkspace(Pattern(FIXTURE), mock_provider=True)
    assert workspace.state_addresses() == []
    assert list(temp_root.iterdir()) == []
    assert deploy.clean_up(workspace) == []
    assert list(temp_root.iterdir()) == []


def test_a_failed_prepare_in_a_with_block_leaves_no_folder(temp_root: Path) -> None:
    gone = Pattern(temp_root.parent / "no-such-pattern")
    with pytest.raises(FileNotFoundError), TerraformWorkspace(gone, mock_provider=True):
        pass
    assert list(temp_root.iterdir()) == []


def test_a_real_aws_workspace_is_never_temporary() -> None:
    with pytest.raises(ValueError, match="real-AWS workspace of tiny-echo needs a kept directory"):
        TerraformWorkspace(Pattern(FIXTURE))


def test_leftovers_in_aws_name_the_folder_that_holds_their_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "state"
    workspace = TerraformWorkspace(Pattern(FIXTURE), directory=directory, region="eu-west-1")
    workspace.prepare()
    state = workspace.root / "terraform.tfstate"
    resource = {"mode": "managed", "type": "aws_sqs_queue", "name": "q", "instances": [{}]}
    state.write_text(json.dumps({"resources": [resource]}))

    def destroy(**_: object) -> None:
        raise TerraformError("terraform destroy failed for tiny-echo (exit 1): Error: denied")

    monkeypatch.setattr(workspace, "destroy", destroy)
    left: list[str] = []
    monkeypatch.setattr(interrupts, "leave", left.append)
    assert deploy.clean_up(workspace) == ["aws_sqs_queue.q"]
    assert len(left) == 1 and f"state in {directory};" in left[0]
    assert state.is_file()  # cleanup() keeps a kept directory's state
