"""security-scan (checkov) and the cfn-lint cache: recorded runs for the mapping, one real run."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from catalog.review import review
from catalog.review.cfnlint_client import CfnLint
from catalog.review.rules import checkov

RECORDED = [
    {
        "check_type": "terraform",
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_62",
                    "check_name": "Ensure IAM policies that allow full '*-*' "
                    "administrative privileges are not created",
                    "file_path": "/main.tf",
                    "file_line_range": [27, 33],
                    "resource": "aws_iam_role_policy.consumer",
                    "guideline": None,
                },
                {
                    "check_id": "CKV_AWS_338",
                    "check_name": "Ensure CloudWatch log groups retains logs for at least 1 year",
                    "file_path": "/main.tf",
                    "file_line_range": [26, 29],
                    "resource": "aws_cloudwatch_log_group.consumer",
                },
            ]
        },
        "summary": {"parsing_errors": 0},
    },
    {
        "check_type": "terraform",
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_27",
                    "check_name": "Ensure all data stored in the SQS queue is encrypted",
                    "file_path": "/main.tf",
                    "file_line_range": [11, 13],
                    "resource": "aws_sqs_queue.orders",
                },
                {
                    "check_id": "CKV_AWS_27",
                    "check_name": "Ensure all data stored in the SQS queue is encrypted",
                    "file_path": "/main.tf",
                    "file_line_range": [11, 13],
                    "resource": "aws_sqs_queue.orders",
                },
            ]
        },
        "summary": {"parsing_errors": 1},
    },
]


def fake_checkov(
    tmp_path: Path, documents: list[dict[str, Any]], code: int = 1, stderr: str = ""
) -> Path:
    """An executable that prints recorded checkov output (file paths point into the -d folder)."""
    script = tmp_path / "fake-checkov"
    payload = "".join(json.dumps(d, indent=1) + "\n" for d in documents)
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "assert '--skip-download' in args and '-o' in args and 'json' in args\n"
        "root = args[args.index('-d') + 1]\n"
        f"payload = {payload!r}.replace('\"file_path\": \"/', '\"file_abs_path\": \"' + root + '/')\n"
        "sys.stdout.write(payload)\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_recorded_checkov_run_is_mapped(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    monkeypatch.setenv("CATALOG_CHECKOV", str(fake_checkov(tmp_path, RECORDED)))
    report = review([root], checkov=True, cfn_lint=False, cwd=root)
    found = sorted(
        (f.rule, f.category, f.path, f.line, f.message.split(":")[0]) for f in report.findings
    )
    assert found == [
        ("SEC001", "iam", "terraform/main.tf", 27, "CKV_AWS_62"),
        ("SEC001", "security-scan", "terraform/main.tf", 11, "CKV_AWS_27"),
    ]  # CKV_AWS_338 is in the skip list; the duplicate CKV_AWS_27 is reported once
    assert [n.reason for n in report.notices] == ["checkov could not parse 1 file(s)"]
    assert report.summary()["checkov"] is True


def test_failing_checkov_is_a_notice(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    monkeypatch.setenv(
        "CATALOG_CHECKOV", str(fake_checkov(tmp_path, [], code=2, stderr="boom: no provider\n"))
    )
    report = review([root], checkov=True, cfn_lint=False, cwd=root)
    assert report.findings == []
    assert [n.reason for n in report.notices] == ["checkov failed: boom: no provider"]


def test_skip_list_is_justified() -> None:
    skips = checkov.load_skips()
    assert skips
    for check_id, reason in skips.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check_id)
        assert len(reason.split()) >= 8, f"{check_id}: give a real reason"


@pytest.mark.skipif(
    checkov.executable() is None, reason="checkov is not installed (.tools/checkov)"
)
def test_real_checkov_on_a_terraform_pattern(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    report = review([root], checkov=True, cfn_lint=False, cwd=root)
    assert not [n for n in report.notices if "checkov" in n.reason], report.notices
    skips = checkov.load_skips()
    assert report.findings, "a plain SQS/Lambda stack has checkov findings outside the skip list"
    for finding in report.findings:
        assert finding.rule == "SEC001"
        assert finding.message.split(":")[0] not in skips
        assert finding.path.startswith("terraform/") and finding.line


def test_cfn_lint_results_are_cached(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.materialise(kit.load_case("SFN002-cfnlint-wait-seconds"), tmp_path)
    first = review([root], cwd=root)
    assert [f.rule for f in first.findings] == ["SFN002"]

    def no_worker(self: CfnLint) -> None:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(CfnLint, "start", no_worker)
    second = review([root], cwd=root)
    assert second.findings == first.findings


def _sfn002_copies(kit: Any, tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "all"
    folder.mkdir()
    for i in range(count):
        spec = {**kit.load_case("SFN002-cfnlint-wait-seconds"), "rename": f"sfn-{i}"}
        root = kit.materialise(spec, tmp_path / f"copy{i}")
        root.rename(folder / root.name)
    return folder


def test_cfn_lint_fed_from_the_pool_matches_one_process(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From 8 patterns up, definitions reach the cfn-lint worker as pool results arrive."""
    monkeypatch.setenv("CATALOG_REVIEW_CACHE", "")  # both runs really lint
    folder = _sfn002_copies(kit, tmp_path, 9)
    parallel = review([folder], jobs=2, cwd=folder)
    sequential = review([folder], jobs=1, cwd=folder)
    assert parallel.findings == sequential.findings
    sfn002 = [f for f in parallel.findings if f.rule == "SFN002"]
    assert sorted(f.pattern for f in sfn002) == [f"sfn-{i}" for i in range(9)]
    assert not [n for n in parallel.notices if "cfn-lint" in n.reason]


def test_cfn_lint_worker_that_cannot_run_is_a_notice(
    tmp_path: Path, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_REVIEW_CACHE", "")
    monkeypatch.setattr(CfnLint, "worker", "catalog.review.no_such_worker")
    root = kit.materialise(kit.load_case("SFN002-cfnlint-wait-seconds"), tmp_path)
    report = review([root], cwd=root)
    assert not [f for f in report.findings if f.rule == "SFN002"]
    reasons = [n.reason for n in report.notices if n.reason.startswith("cfn-lint not run")]
    assert reasons and "no_such_worker" in reasons[0], report.notices
