"""The randomized fault suites' bookkeeping (catalog.testing): replay lines and the coverage table."""

from __future__ import annotations

from catalog.testing import FaultCoverage, FaultRuns


def test_replay_of_first_names_the_earliest_run_a_problem_mentions() -> None:
    runs = FaultRuns(seed=7, runs=40)
    keys = [f"rnd-abc-{n:04d}" for n in range(40)]
    problems = ["rnd-abc-0031: 2 payment records", "rnd-abc-0012: left PENDING"]
    assert (
        runs.replay_of_first(problems, keys) == "replay: CATALOG_FAULT_SEED=7 CATALOG_FAULT_RUNS=13"
    )
    # nothing named: replaying every run is the only honest answer
    assert runs.replay_of_first(["SKU-A: 3 on hand"], keys).endswith("CATALOG_FAULT_RUNS=40")


def test_coverage_table_gives_the_median_cpu_per_run_when_recorded() -> None:
    coverage = FaultCoverage("p", ["a", "b"], {})
    for cpu in (0.010, 0.030, 0.020):
        coverage.record(["a"], [], (0.5, 0.1), cpu)
    table = coverage.table(seed=1)
    assert "per run (median) 0.500 s + invariants 0.100 s, CPU 20 ms" in table
    assert coverage.below(0.2) == ["b"]
    assert "CPU" not in FaultCoverage("q", ["a"], {}).table(seed=1)
