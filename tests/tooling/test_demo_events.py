"""`catalog demo` turns each child's events into one line per step, with honest times."""

from __future__ import annotations

import subprocess
import sys

from catalog.demo import PatternRun


def _run() -> PatternRun:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    run = PatternRun("p", process, events=None, started=0.0, last_event=0.0)
    return run


def test_steps_last_until_the_next_step_and_results_since_the_previous_event() -> None:
    run = _run()
    assert run.handle({"event": "step", "message": "terraform apply (p)"}, 1.0) == []
    (apply,) = run.handle({"event": "step", "message": "scenarios (p)"}, 41.0)
    assert (apply.message, apply.seconds) == ("terraform apply (p)", 40.0)
    (first,) = run.handle({"event": "result", "message": "scenario a: SUCCEEDED"}, 41.5)
    (second,) = run.handle({"event": "result", "message": "scenario b: FAILED"}, 43.0)
    assert (first.seconds, second.seconds) == (0.5, 1.5)
    (scenarios,) = run.handle({"event": "step", "message": "terraform destroy (p)"}, 44.0)
    assert (scenarios.message, scenarios.seconds) == ("scenarios (p)", 3.0)
    run.handle({"event": "note", "message": "adapted the temporary copy:"}, 45.0)
    (destroy,) = run.handle({"event": "report", "text": "report\n"}, 60.0)
    assert destroy.seconds == 16.0
    assert run.report == "report\n" and run.notes == ["adapted the temporary copy:"]
    assert [s.message for s in run.steps] == [
        "terraform apply (p)",
        "scenarios (p)",
        "scenario a: SUCCEEDED",
        "scenario b: FAILED",
        "terraform destroy (p)",
    ]


def test_progress_updates_the_running_step_and_adds_no_line() -> None:
    run = _run()
    run.handle({"event": "step", "message": "terraform apply (p)"}, 1.0)
    assert (
        run.handle({"event": "progress", "message": "terraform apply: 3/35 created x"}, 2.0) == []
    )
    assert [s.progress for s in run.steps] == ["terraform apply: 3/35 created x"]
    (apply,) = run.handle({"event": "step", "message": "terraform destroy (p)"}, 5.0)
    assert apply.seconds == 4.0  # progress did not end the step
