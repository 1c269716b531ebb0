"""cfn-lint E3601 for the review: one worker process (`cfnlint_worker`), fed each distinct
definition as pattern results arrive, results cached by content (`review.cache`)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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
    """The worker process: started early (its import takes seconds), fed as patterns finish
    (`feed`), answered at the end (`finish`); results cached by content."""

    worker = "catalog.review.cfnlint_worker"

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.version = cache.version("cfn-lint")
        self._jobs: list[CfnJob] = []
        self._sent: set[str] = set()
        self._answers: dict[str, list[dict[str, Any]]] = {}
        self._stderr: list[str] = []
        self._readers: list[threading.Thread] = []

    def start(self) -> None:
        if self.proc is not None:
            return
        shared = str(Path(__file__).resolve().parents[2])
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [shared, os.environ.get("PYTHONPATH")])),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.worker],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # Both pipes are drained while jobs are written: a full pipe never blocks the worker.
        self._readers = [
            threading.Thread(target=self._read_answers, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_answers(self, stream: IO[str]) -> None:
        for raw in stream:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                item = json.loads(raw)
                self._answers[item["id"]] = item["matches"]

    def _read_stderr(self, stream: IO[str]) -> None:
        for raw in stream:
            self._stderr = [*self._stderr[-20:], raw]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.SubprocessError):
                self.proc.wait(timeout=10)
        self.proc = None

    def key(self, job: CfnJob) -> str:
        return cache.key("cfn-lint", self.version, CFN_LINT_RULES, job.template)

    def feed(self, jobs: list[CfnJob]) -> None:
        """Queue jobs: each distinct definition is answered by the cache or sent once."""
        for job in jobs:
            job.key = self.key(job)
            self._jobs.append(job)
            if job.key in self._sent or job.key in self._answers:
                continue
            cached = cache.get("cfnlint", job.key)
            if isinstance(cached, list):
                self._answers[job.key] = cached
                continue
            self.start()
            assert self.proc is not None and self.proc.stdin is not None
            self._sent.add(job.key)
            try:
                self.proc.stdin.write(json.dumps({"id": job.key, "template": job.template}) + "\n")
                self.proc.stdin.flush()
            except OSError:  # the worker died: its jobs get a notice in finish()
                pass

    def finish(self, timeout: float = 900) -> tuple[list[Finding], list[Notice]]:
        """Wait for every answer (the worker ends when its input does) and build the findings."""
        if self.proc is not None and not self._sent:
            self.stop()  # started early, but nothing to lint: no need to wait for its import
        if self.proc is not None:
            assert self.proc.stdin is not None
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            deadline = time.monotonic() + timeout
            for reader in self._readers:
                reader.join(max(0.0, deadline - time.monotonic()))
            timed_out = any(reader.is_alive() for reader in self._readers)
            self.stop()
            if timed_out:
                self._stderr.append("timed out")
        for digest in self._sent:
            matches = self._answers.get(digest)
            if matches is not None and not any(m["rule"] == "ERROR" for m in matches):
                cache.put("cfnlint", digest, matches)
        reason = ("".join(self._stderr).strip().splitlines() or ["no output"])[-1]
        notices = [
            Notice(job.pattern, job.path, f"cfn-lint not run: {reason}")
            for job in self._jobs
            if job.key not in self._answers
        ]
        results = {
            index: self._answers[job.key]
            for index, job in enumerate(self._jobs)
            if job.key in self._answers
        }
        return _findings(self._jobs, results), notices

    def run(self, jobs: list[CfnJob], timeout: float = 900) -> tuple[list[Finding], list[Notice]]:
        """Lint every job (identical definitions once), from the cache when possible."""
        self.feed(jobs)
        return self.finish(timeout)


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
