"""security-scan: checkov on Terraform roots, in its own environment, offline (`--skip-download`).

Slow (seconds per folder), so it runs only when asked (`--checkov`, or the github format). The
catalog's justified skips live in `checkov-skips.json` next to this package; checks that overlap
a review category are reported under it (CKV_AWS_338 is log-retention, CKV_AWS_62 is iam...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..context import display_path
from ..model import RULES, Finding, Notice, rule

rule(
    "SEC001",
    "security-scan",
    "warning",
    "checkov check failed (not in the catalog's skip list)",
    "CKV_AWS_158: Ensure that CloudWatch Log Group is encrypted by KMS (aws_cloudwatch_log_group.fn)",
)

SKIPS_FILE = Path(__file__).resolve().parents[1] / "checkov-skips.json"
CATEGORY = {
    **dict.fromkeys(["CKV_AWS_338", "CKV_AWS_66", "CKV_AWS_285"], "log-retention"),
    **dict.fromkeys(
        [
            "CKV_AWS_1",
            "CKV_AWS_49",
            "CKV_AWS_62",
            "CKV_AWS_63",
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
            "CKV_AWS_286",
            "CKV_AWS_287",
            "CKV_AWS_288",
            "CKV_AWS_289",
            "CKV_AWS_290",
            "CKV_AWS_355",
            "CKV_AWS_356",
            "CKV2_AWS_40",
        ],
        "iam",
    ),
    "CKV_AWS_363": "runtime",
    "CKV_AWS_274": "iam",
}


def load_skips(path: Path = SKIPS_FILE) -> dict[str, str]:
    data = json.loads(path.read_text())
    skips = data.get("skips", {})
    if not isinstance(skips, dict) or not all(
        isinstance(v, str) and v.strip() for v in skips.values()
    ):
        raise ValueError(f"{path}: 'skips' must map each check id to a non-empty reason")
    return skips


def executable() -> str | None:
    """CATALOG_CHECKOV, else the project's own environment (.tools/checkov), else PATH."""
    explicit = os.environ.get("CATALOG_CHECKOV")
    if explicit:
        return explicit
    bundled = Path(__file__).resolve().parents[4] / ".tools" / "checkov" / "bin" / "checkov"
    if bundled.is_file():
        return str(bundled)
    return shutil.which("checkov")


@dataclass(frozen=True)
class Target:
    pattern: str
    root: Path  # the Terraform root folder to scan


def _objects(text: str) -> list[dict[str, Any]]:
    """checkov prints one JSON document, a list, or several documents back to back."""
    decoder, index, out = json.JSONDecoder(), 0, []
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            value, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        out.extend(
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)
        )
    return out


class Checkov:
    def __init__(self, targets: list[Target], cwd: Path, workers: int = 2) -> None:
        self.targets = targets
        self.cwd = cwd
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers))
        self.exe = executable()
        self.skips = load_skips()
        self.futures = [self.pool.submit(self._run, t) for t in targets] if self.exe else []

    def _run(self, target: Target) -> tuple[str, str, int]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        args = [
            str(self.exe),
            "--skip-download",
            "-d",
            str(target.root),
            "-o",
            "json",
            "--quiet",
            "--compact",
            "--framework",
            "terraform",
            "--skip-check",
            ",".join(sorted(self.skips)),
        ]
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, timeout=900, env=env, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return "", str(exc), -1
        return proc.stdout, proc.stderr, proc.returncode

    def results(self) -> tuple[list[Finding], list[Notice]]:
        findings: list[Finding] = []
        notices: list[Notice] = []
        if self.exe is None:
            notices += [
                Notice(
                    t.pattern,
                    display_path(t.root, self.cwd),
                    "checkov not found (CATALOG_CHECKOV, .tools/checkov or PATH)",
                )
                for t in self.targets
            ]
            return findings, notices
        seen: set[tuple[str, str, int]] = set()
        spec = RULES["SEC001"]
        for target, future in zip(self.targets, self.futures, strict=True):
            out, err, code = future.result()
            docs = _objects(out)
            if code not in (0, 1) or (not docs and out.strip() not in ("", "[]")):
                reason = (err.strip().splitlines() or [f"exit code {code}"])[-1]
                notices.append(
                    Notice(
                        target.pattern,
                        display_path(target.root, self.cwd),
                        f"checkov failed: {reason}",
                    )
                )
                continue
            for doc in docs:
                summary = doc.get("summary") or {}
                if summary.get("parsing_errors"):
                    notices.append(
                        Notice(
                            target.pattern,
                            display_path(target.root, self.cwd),
                            f"checkov could not parse {summary['parsing_errors']} file(s)",
                        )
                    )
                for failed in (doc.get("results") or {}).get("failed_checks", []):
                    check_id = str(failed.get("check_id"))
                    if check_id in self.skips:
                        continue
                    path = Path(
                        failed.get("file_abs_path")
                        or target.root / str(failed.get("file_path", "")).lstrip("/")
                    )
                    line = (failed.get("file_line_range") or [None])[0]
                    key = (check_id, str(path), int(line or 0))
                    if key in seen:
                        continue
                    seen.add(key)
                    findings.append(
                        Finding(
                            target.pattern,
                            display_path(path, self.cwd),
                            line,
                            "SEC001",
                            CATEGORY.get(check_id, spec.category),
                            spec.severity,
                            f"{check_id}: {failed.get('check_name')} ({failed.get('resource')})",
                            failed.get("guideline")
                            or "fix it, or skip it with a reason in "
                            "shared/catalog/review/checkov-skips.json",
                        )
                    )
        self.pool.shutdown()
        return findings, notices
