"""Bad input never crashes the review: it becomes a finding or a clear "not analysed" notice."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from catalog.review import review, runner
from catalog.review.context import MAX_BYTES
from catalog.review.discover import UsageError
from catalog.review.rules import CHECKS


def reasons(report: Any) -> dict[str, str]:
    return {Path(n.path).name: n.reason for n in report.notices}


def unreadable(report: Any) -> dict[str, tuple[str, int | None]]:
    """READ001 findings by file name: what the review cannot read is an error, not a notice."""
    return {Path(f.path).name: (f.message, f.line) for f in report.findings if f.rule == "READ001"}


def test_unreadable_file_is_an_error(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    target = root / "template.yaml"
    original = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self == target:
            raise PermissionError(13, "Permission denied")
        return original(self)

    # chmod 000 means nothing to root, so the refusal is simulated where the file is read.
    monkeypatch.setattr(Path, "read_bytes", deny)
    report = review([root], cfn_lint=False, cwd=root)
    assert unreadable(report)["template.yaml"] == ("unreadable: Permission denied", None)
    assert all(f.rule != "LOG001" for f in report.findings)
    assert report.fails("error")


def test_invalid_json_metadata_is_a_finding(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    (root / "example-pattern.json").write_text('{"title": "x",\n')
    report = review([root], cfn_lint=False, cwd=root)
    assert [(f.rule, f.line) for f in report.findings if f.category == "metadata"] == [
        ("META002", 2)
    ]


def test_invalid_yaml_template_is_an_error(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    (root / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n  [x\n"
    )
    report = review([root], cfn_lint=False, cwd=root)
    message, line = unreadable(report)["template.yaml"]
    assert message.startswith("template not analysed:")
    assert line == 5  # where the YAML parser gives up


def test_binary_code_file_is_an_error(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("pulumi-orders", tmp_path)
    (root / "src" / "orders" / "durable.py").write_bytes(b"\x00\x01binary\x00" * 100)
    report = review([root], cfn_lint=False, cwd=root)
    assert unreadable(report)["durable.py"][0] == "binary file where text is expected: not analysed"


def test_non_utf8_file_is_an_error(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    (root / "README.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    report = review([root], cfn_lint=False, cwd=root)
    assert "not UTF-8 text" in unreadable(report)["README.md"][0]


def test_huge_file_is_skipped(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    (root / "README.md").write_text("# Big\n" + "x" * (MAX_BYTES + 10))
    report = review([root], cfn_lint=False, cwd=root)
    assert "larger than 1 MiB" in reasons(report)["README.md"]
    assert all(f.rule not in ("DOC002", "DOC004") for f in report.findings)


def test_symlink_loops_are_reported_and_walk_ends(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    os.symlink(".", root / "src" / "again")  # folder loop
    os.symlink("b.py", root / "src" / "a.py")  # file loop
    os.symlink("a.py", root / "src" / "b.py")
    os.symlink("/", root / "outside")  # leaves the pattern
    report = review([root], cfn_lint=False, cwd=root)
    notes = reasons(report)
    assert notes["again"].startswith("symlink loop")
    assert notes["a.py"].startswith("symlink loop")
    assert notes["outside"] == "symlink leaves the pattern folder: not followed"
    assert [f.to_dict() for f in report.findings] == []


def test_crashing_check_becomes_a_notice(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    (root / "README.md").unlink()
    index = next(i for i, c in enumerate(CHECKS) if c.name == "iam")

    def boom(ctx: Any) -> None:
        raise RuntimeError("synthetic failure")

    patched = list(CHECKS)
    patched[index] = replace(CHECKS[index], fn=boom)
    monkeypatch.setattr(runner, "CHECKS", patched)
    report = review([root], cfn_lint=False, cwd=root)
    assert any(
        "could not analyse sam-orders with iam" in n.reason and "synthetic failure" in n.reason
        for n in report.notices
    )
    assert [f.rule for f in report.findings] == ["DOC001"]  # the other checks still ran


def test_unparsable_terraform_is_an_error(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    (root / "terraform" / "broken.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = \n')
    report = review([root], cfn_lint=False, cwd=root)
    message, _ = unreadable(report)["broken.tf"]
    assert message.startswith("Terraform not analysed")
    assert str(tmp_path) not in message  # no absolute path leaks into the report
    assert report.fails("error")


def test_binary_terraform_file_is_an_error(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    (root / "terraform" / "blob.tf").write_bytes(b"\x00\x01\x02terraform\x00" * 50)
    report = review([root], cfn_lint=False, cwd=root)
    assert "blob.tf" in unreadable(report)
    assert report.fails("error")


def test_folder_without_iac_is_noticed(tmp_path: Path) -> None:
    root = tmp_path / "notes-only"
    root.mkdir()
    (root / "README.md").write_text("# Notes\n")
    report = review([tmp_path], cfn_lint=False, cwd=tmp_path)
    assert any("no IaC found" in n.reason for n in report.notices)
    assert {f.rule for f in report.findings} >= {"META001", "DOC002"}


def test_empty_folder_of_patterns(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = review([tmp_path], cfn_lint=False, cwd=tmp_path)
    assert [p.name for p in report.patterns] == ["empty"]
    assert [(f.rule, f.path) for f in report.findings] == [("READ002", "empty")]


def test_empty_pattern_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "orders-sam").mkdir()
    report = review([tmp_path / "orders-sam"], cfn_lint=False, cwd=tmp_path)
    assert [(f.rule, f.message) for f in report.findings] == [
        ("READ002", "orders-sam/ is empty: nothing to review")
    ]
    assert report.fails("error")


def test_folder_without_patterns_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "patterns").mkdir()
    report = review([tmp_path / "patterns"], cfn_lint=False, cwd=tmp_path)
    assert [f.rule for f in report.findings] == ["READ002"]


def test_tooling_folders_are_skipped_once(tmp_path: Path, kit: Any) -> None:
    kit.base_pattern("sam-orders", tmp_path)
    scripts = tmp_path / "work" / "scripts"
    scripts.mkdir()
    (scripts / "validate.js").write_text("const region = 'us-east-1';\n")
    (scripts / "pattern-schema.json").write_text('{"type": "object", "properties": {}}\n')
    report = review([tmp_path / "work"], cfn_lint=False, cwd=tmp_path)
    assert [p.name for p in report.patterns] == ["sam-orders"]
    assert [(n.path, n.reason) for n in report.notices] == [
        ("work/scripts", "not a pattern (no metadata, README or IaC): skipped")
    ]
    assert report.findings == []


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        review([tmp_path / "nope"], cfn_lint=False)


def test_many_patterns_in_parallel_match_sequential(tmp_path: Path, kit: Any) -> None:
    """The process pool (used from 8 patterns up) gives the same report as one process."""
    names = ["sam-orders", "tf-orders", "cdk-orders", "pulumi-orders"]
    for i in range(3):
        for name in names:
            spec = {"base": name, "rename": f"{name}-{i}"}
            kit.materialise(spec, tmp_path / f"copy{i}")
    folder = tmp_path / "all"
    folder.mkdir()
    for copy in tmp_path.glob("copy*/work/*"):
        copy.rename(folder / copy.name)
    parallel = review([folder], cfn_lint=False, jobs=2, cwd=folder)
    sequential = review([folder], cfn_lint=False, jobs=1, cwd=folder)
    assert len(parallel.patterns) == 12
    assert parallel.findings == sequential.findings
    # copies keep the base's projectFolder: exactly one META004 per copy, nothing else
    assert {f.rule for f in parallel.findings} == {"META004"}
