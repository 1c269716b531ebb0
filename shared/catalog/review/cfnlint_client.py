"""cfn-lint E3601 for the review: one worker process (`cfnlint_worker`), fed once with every
distinct definition, results cached by content (`review.cache`)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cache
from .model import RULES, Finding, Notice

CFN_LINT_RULES = ("E3601",)


@dataclass
class CfnJob:
    pattern: str
    path: str  # display path
    template: dict[str, Any]
    lines: dict[str, int]
    default_line: int | None
    key: str = ""


class CfnLint:
    """The worker process: started early (its import takes seconds), fed once, results cached."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.version = cache.version("cfn-lint")

    def start(self) -> None:
        if self.proc is not None:
            return
        shared = str(Path(__file__).resolve().parents[2])
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [shared, os.environ.get("PYTHONPATH")])),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "catalog.review.cfnlint_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.SubprocessError):
                self.proc.communicate(timeout=10)
        self.proc = None

    def key(self, job: CfnJob) -> str:
        return cache.key("cfn-lint", self.version, CFN_LINT_RULES, job.template)

    def run(self, jobs: list[CfnJob], timeout: float = 900) -> tuple[list[Finding], list[Notice]]:
        """Lint every job (identical definitions once), from the cache when possible."""
        by_key: dict[str, list[int]] = {}
        for index, job in enumerate(jobs):
            job.key = self.key(job)
            by_key.setdefault(job.key, []).append(index)
        answers: dict[str, list[dict[str, Any]]] = {}
        misses: list[str] = []
        for digest in by_key:
            cached = cache.get("cfnlint", digest)
            if isinstance(cached, list):
                answers[digest] = cached
            else:
                misses.append(digest)
        notices: list[Notice] = []
        if misses:
            self.start()
            assert self.proc is not None
            payload = "".join(
                json.dumps({"id": digest, "template": jobs[by_key[digest][0]].template}) + "\n"
                for digest in misses
            )
            try:
                out, err = self.proc.communicate(payload, timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                out, err = "", "timed out"
            self.proc = None
            for raw in out.splitlines():
                item = json.loads(raw)
                answers[item["id"]] = item["matches"]
                if not any(m["rule"] == "ERROR" for m in item["matches"]):
                    cache.put("cfnlint", item["id"], item["matches"])
            reason = (err.strip().splitlines() or ["no output"])[-1]
            for digest in misses:
                if digest not in answers:
                    notices += [
                        Notice(jobs[i].pattern, jobs[i].path, f"cfn-lint not run: {reason}")
                        for i in by_key[digest]
                    ]
        else:
            self.stop()
        results = {
            i: answers[digest]
            for digest, indexes in by_key.items()
            if digest in answers
            for i in indexes
        }
        return _findings(jobs, results), notices


def _findings(jobs: list[CfnJob], results: dict[int, list[dict[str, Any]]]) -> list[Finding]:
    spec = RULES["SFN002"]
    out = []
    for index, matches in results.items():
        job = jobs[index]
        for m in matches:
            if m["rule"] not in CFN_LINT_RULES and m["rule"] != "ERROR":
                continue
            path = (
                m["path"][4:]
                if m["path"][:4] == ["Resources", "StateMachine", "Properties", "Definition"]
                else []
            )
            line = job.default_line
            for depth in range(len(path), 0, -1):
                found = job.lines.get("/".join(path[:depth]))
                if found is not None:
                    line = found
                    break
            where = "/".join(path) or "definition"
            message = f"{m['rule']} {m['message']} (at {where})"
            out.append(
                Finding(
                    job.pattern,
                    job.path,
                    line,
                    "SFN002",
                    spec.category,
                    spec.severity,
                    message,
                    "fix the definition (Amazon States Language)",
                )
            )
    return out
