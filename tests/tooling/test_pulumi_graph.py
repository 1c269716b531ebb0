"""catalog.engines.pulumi_graph: tiny programs under mocks, every resource option recorded."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings

from catalog.engines.pulumi_graph import RecordedResource, record_program, run_program

PROJECT_FILE = """\
name: tiny
runtime: python
config:
  greeting:
    type: string
    default: hello
"""

OPTIONS_PROGRAM = """\
import pulumi


class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        self.inner = pulumi.CustomResource(
            "test:index:Thing", f"{name}-inner", {"size": 3}, pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


kept = Box("kept", pulumi.ResourceOptions(retain_on_delete=True))
locked = pulumi.CustomResource(
    "test:index:Thing",
    "locked",
    {"label": pulumi.Output.secret("s3cret"), "code": pulumi.FileArchive("code.zip")},
    pulumi.ResourceOptions(protect=True, delete_before_replace=True),
)
plain = pulumi.CustomResource(
    "test:index:Thing", "plain", {"ref": locked.id}, pulumi.ResourceOptions(depends_on=[kept])
)
pulumi.export("plain_id", plain.id)
pulumi.export("greeting", pulumi.Config().get("greeting"))
"""


def write_program(folder: Path, main: str, **modules: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(PROJECT_FILE)
    (folder / "__main__.py").write_text(textwrap.dedent(main))
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(text))
    return folder


def by_name(resources: list[RecordedResource]) -> dict[str, RecordedResource]:
    return {r.name: r for r in resources}


@pytest.fixture
def options_program(tmp_path: Path) -> Path:
    return write_program(tmp_path / "tiny", OPTIONS_PROGRAM)


def test_records_options_parents_and_dependencies(options_program: Path) -> None:
    resources = record_program(options_program)
    assert [r.urn for r in resources] == sorted(r.urn for r in resources)
    graph = by_name(resources)
    assert set(graph) == {"kept", "kept-inner", "locked", "plain"}  # the stack itself is left out
    kept, inner, locked, plain = (graph[n] for n in ("kept", "kept-inner", "locked", "plain"))

    assert kept.urn == "urn:pulumi:test::tiny::test:index:Box::kept"
    assert (kept.custom, kept.parent, kept.inputs, kept.retain_on_delete) == (False, None, {}, True)
    # A child URN carries the parent's type; retain_on_delete is inherited from the component.
    assert inner.urn == "urn:pulumi:test::tiny::test:index:Box$test:index:Thing::kept-inner"
    assert (inner.parent, inner.custom, inner.retain_on_delete) == (kept.urn, True, True)
    assert inner.inputs == {"size": 3} and isinstance(inner.inputs["size"], int)

    assert (locked.protect, locked.delete_before_replace, locked.retain_on_delete) == (
        True,
        True,
        False,
    )
    # Secrets unwrapped, archives as plain comparable values.
    assert locked.inputs == {"label": "s3cret", "code": {"kind": "FileArchive", "path": "code.zip"}}

    # depends_on a component means its children; an input from another resource is a dependency.
    assert plain.dependencies == tuple(sorted((inner.urn, locked.urn)))
    assert plain.inputs == {"ref": "locked-id"}
    assert not plain.protect and not plain.retain_on_delete and not plain.delete_before_replace


def test_repeated_runs_in_one_process_give_the_same_graph(
    options_program: Path, tmp_path: Path
) -> None:
    first = record_program(options_program)
    other = write_program(
        tmp_path / "other",
        """\
        import pulumi
        pulumi.CustomResource("test:index:Thing", "lonely", {}, pulumi.ResourceOptions())
        """,
    )
    assert [r.name for r in record_program(other)] == ["lonely"]
    assert record_program(options_program) == first


def test_stack_outputs_and_config(options_program: Path) -> None:
    run = run_program(options_program)
    assert run.outputs == {"plain_id": "plain-id", "greeting": "hello"}  # Pulumi.yaml default
    assert run.seconds > 0
    assert run_program(options_program, {"greeting": "hi"}).outputs["greeting"] == "hi"
    assert run_program(options_program, {"tiny:greeting": "hey"}).outputs["greeting"] == "hey"
    renamed = run_program(options_program, project="renamed", stack="prod")
    assert renamed.resources[0].urn.startswith("urn:pulumi:prod::renamed::")
    assert renamed.outputs["greeting"] == "hello"  # "greeting" lands in the renamed namespace


def test_aws_resources_get_realistic_outputs(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "aws",
        """\
        import pulumi
        import pulumi_aws as aws

        group = aws.cloudwatch.LogGroup("logs", name="/aws/lambda/f", retention_in_days=7)
        role = aws.iam.Role("role", assume_role_policy="{}")
        table = aws.dynamodb.Table(
            "table", name="t", hash_key="id", attributes=[{"name": "id", "type": "S"}],
            billing_mode="PAY_PER_REQUEST", stream_enabled=True, stream_view_type="NEW_IMAGE",
        )
        pulumi.export("group_arn", group.arn)
        pulumi.export("role", pulumi.Output.all(role.name, role.arn))
        pulumi.export("table", pulumi.Output.all(table.arn, table.stream_arn))
        """,
    )
    outputs = run_program(program).outputs
    assert outputs["group_arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
    role_name, role_arn = outputs["role"]
    assert role_name.startswith("role-") and role_arn.endswith(f":role/{role_name}")
    table_arn, stream_arn = outputs["table"]
    assert table_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    assert stream_arn.startswith(f"{table_arn}/stream/")


def test_a_failing_program_raises_its_error_and_the_next_run_is_clean(
    options_program: Path, tmp_path: Path
) -> None:
    broken = write_program(
        tmp_path / "broken",
        """\
        import pulumi
        pulumi.CustomResource("test:index:Thing", "before", {})
        raise ValueError("retention 10 is not allowed")
        """,
    )
    with pytest.raises(ValueError, match="retention 10 is not allowed") as caught:
        record_program(broken)
    assert any(str(broken) in note for note in caught.value.__notes__)
    assert len(record_program(options_program)) == 4


def test_a_copy_runs_its_own_modules_and_leaves_nothing_behind(tmp_path: Path) -> None:
    main = """\
    import pulumi
    import helper
    pulumi.export("value", helper.VALUE)
    """
    original = write_program(tmp_path / "original", main, helper="VALUE = 'original'\n")
    copy = write_program(tmp_path / "copy", main, helper="VALUE = 'broken'\n")
    assert run_program(original).outputs == {"value": "original"}
    assert run_program(copy).outputs == {"value": "broken"}
    assert run_program(original).outputs == {"value": "original"}
    assert "helper" not in sys.modules


def test_the_caller_keeps_its_runtime_state(options_program: Path) -> None:
    cwd, path = os.getcwd(), list(sys.path)
    record_program(options_program, {"greeting": "hi"})
    assert (os.getcwd(), sys.path) == (cwd, path)
    assert settings.get_root_resource() is None
    assert "tiny:greeting" not in pulumi_config.CONFIG.get()


def test_a_folder_without_a_program_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no __main__\.py"):
        record_program(tmp_path)


def test_data_source_lookups_resolve_under_mocks(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "lookup",
        """\
        import pulumi
        import pulumi_aws as aws

        identity = aws.get_caller_identity()
        partition = aws.get_partition()
        pulumi.export("account", identity.account_id)
        pulumi.export("partition", partition.partition)
        """,
    )
    assert run_program(program).outputs == {"account": "123456789012", "partition": "aws"}
