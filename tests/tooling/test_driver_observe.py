"""The driver helpers every report uses: plain values and the rows of one run."""

from __future__ import annotations

from decimal import Decimal

from catalog.drivers.base import ReportSpec
from catalog.drivers.observe import identifiers, plain, related_rows


def test_plain_turns_dynamodb_values_into_json_values() -> None:
    value = {
        "n": Decimal("3"),
        "f": Decimal("2.5"),
        "s": {"b", "a"},
        "l": (Decimal("1"),),
        "x": b"hi",
    }
    assert plain(value) == {"n": 3, "f": 2.5, "s": ["a", "b"], "l": [1], "x": "aGk="}
    assert isinstance(plain(Decimal("3")), int)


ROWS = {
    "runs": [
        {"run_id": "run-0001", "ticket": "tk-1", "parts": [{"part": "P-100"}]},
        {"run_id": "run-0002", "ticket": "tk-2", "parts": [{"part": "P-100"}]},
    ],
    "tickets": [{"ticket": "tk-1", "state": "OPEN"}, {"ticket": "tk-2", "state": "OPEN"}],
    "parts": [{"part": "P-100", "left": 3}, {"part": "P-200", "left": 9}],
    "log": [{"line": "started run-0001 at noon"}, {"line": "started run-0002"}],
}


def test_related_rows_follow_seeds_then_link_keys() -> None:
    related = related_rows(ROWS, {"run-0001"}, ("ticket", "part"))
    assert related == {
        "runs": [ROWS["runs"][0]],
        "tickets": [ROWS["tickets"][0]],  # linked by its top-level ticket
        "parts": [ROWS["parts"][0]],  # linked by a value held at any depth of a related row
        "log": [ROWS["log"][0]],  # mentions the seed inside a string
    }
    # Without link keys only the rows mentioning the seed.
    assert related_rows(ROWS, {"run-0001"})["tickets"] == []


def test_identifiers_leave_out_words_that_would_match_every_run() -> None:
    assert identifiers(
        {"a": "OPEN", "b": ["run-0001", "hello world"], "c": '{"k": "tk:12345"}'}
    ) == {
        "run-0001",
        "tk:12345",
    }


def test_report_spec_reads_metadata_and_matches_compensations() -> None:
    spec = ReportSpec.of(
        {
            "catalog": {
                "report": {
                    "tables": ["runs"],
                    "linkKeys": ["ticket"],
                    "steps": [{"name": "in", "observe": "requests"}],
                    "compensations": ["undo-*", "Rollback"],
                }
            }
        }
    )
    assert spec.tables == ("runs",) and spec.link_keys == ("ticket",)
    assert spec.steps[0].observe == "requests"
    assert spec.is_compensation("undo-charge") and spec.is_compensation("Rollback")
    assert not spec.is_compensation("charge")
    assert ReportSpec.of({}) == ReportSpec()
