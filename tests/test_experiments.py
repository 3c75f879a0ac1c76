"""Experiments: deterministic sweeps, what one run measures, and the written report."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest

from paxchain.checker.experiment_report import figure_data, write_report
from paxchain.checker.experiments import (COMPARE, EXPERIMENTS, PAXOS_TIMEOUTS, chain_run,
                                          paxos_run, stale_expectation, summary_rows)
from paxchain.checker.sweep import Axis, by_point, grid_points, percentile, sweep
from tests.test_html_viewer import _driver

TINY_PAXOS = replace(PAXOS_TIMEOUTS, axes=(Axis("timeout", (2.5, 20.0)),
                                           Axis("backoff", (1.0, 1.5)),
                                           Axis("latency", ("uniform",)), Axis("loss", (0.0,)),
                                           Axis("pause", (0.0,)), Axis("drift", (0.0,))))


def test_grid_order_and_percentiles():
    axes = [Axis("a", (1, 2)), Axis("b", ("x", "y", "z"))]
    points = grid_points(axes)
    assert len(points) == 6 and points[0] == {"a": 1, "b": "x"} and points[3] == {"a": 2, "b": "x"}
    assert percentile([3, 1, 2], 50) == 2 and percentile([], 50) is None
    assert percentile([0, 10], 90) == 9


def test_a_sweep_gives_the_same_rows_on_one_or_two_workers():
    one = sweep(TINY_PAXOS.run, TINY_PAXOS.axes, 3, jobs=1)
    two = sweep(TINY_PAXOS.run, TINY_PAXOS.axes, 3, jobs=2)
    assert one == two and len(one) == 4 * 3
    assert [(r["timeout"], r["backoff"], r["seed"]) for r in one[:4]] == [
        (2.5, 1.0, 0), (2.5, 1.0, 1), (2.5, 1.0, 2), (2.5, 1.5, 0)]
    assert [len(runs) for _, runs in by_point(one, TINY_PAXOS.axes)] == [3, 3, 3, 3]


def test_duelling_proposers_cost_more_ballots_without_backoff():
    """Timeout below the round trip, no backoff: every seed uses more ballots than with a
    tuned timeout and backoff, and no run is unsafe."""
    for seed in range(5):
        duel = paxos_run({"timeout": 2.5, "backoff": 1.0}, seed)
        tuned = paxos_run({"timeout": 20.0, "backoff": 1.5}, seed)
        assert duel["safe"] and tuned["safe"] and tuned["decided"]
        assert duel["ballots"] > tuned["ballots"], seed


def test_chain_runs_measure_forks_and_the_formula_is_decker_wattenhofer():
    slow = chain_run({"interval": 160.0, "hi": 5.0, "nodes": 3, "blocks": 10}, 0)
    assert slow["mined"] >= 10 and 0 <= slow["stale_rate"] < 1
    # p = 1 - exp(-(n-1)/n * Δ/T) with n = 5, Δ = 3 (uniform 1..5), T = 10; stale = p / (1 + p)
    p = 1 - 2.718281828459045 ** (-0.8 * 3.0 / 10.0)
    assert stale_expectation({"interval": 10.0, "hi": 5.0, "nodes": 5}) == pytest.approx(
        p / (1 + p))


def test_the_report_has_every_file_and_the_page_shows_every_figure(tmp_path):
    rows = sweep(TINY_PAXOS.run, TINY_PAXOS.axes, 2, jobs=1)
    meta = {"experiment": "paxos-timeouts", "seeds": 2, "runs": len(rows), "command": "test"}
    written = write_report(TINY_PAXOS, rows, tmp_path / "r", meta)
    names = {p.name for p in written}
    for f in TINY_PAXOS.figures:
        assert {f"{f.name}.png", f"{f.name}.svg"} <= names
    assert {"runs.csv", "summary.csv", "results.json", "index.html"} <= names
    runs = list(csv.DictReader((tmp_path / "r" / "runs.csv").open()))
    assert len(runs) == len(rows) == 8
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["summary"] == json.loads(json.dumps(summary_rows(TINY_PAXOS, rows)))
    assert "0 of 8 runs broke agreement" in data["findings"]
    median = figure_data(TINY_PAXOS.figures[0], summary_rows(TINY_PAXOS, rows))
    assert set(median["lines"]) == {"backoff=1.0", "backoff=1.5"}
    # The same rows write the same bytes (no dates or random ids in the drawings).
    write_report(TINY_PAXOS, rows, tmp_path / "again", meta)
    for name in names:
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    driver = _driver(tmp_path / "profile")
    try:
        from selenium.webdriver.common.by import By

        driver.get((tmp_path / "r" / "index.html").as_uri())
        figs = driver.find_elements(By.CSS_SELECTOR, "figure svg")
        assert len(figs) == len(TINY_PAXOS.figures) and all(f.is_displayed() for f in figs)
        assert "broke agreement" in driver.find_element(By.CLASS_NAME, "findings").text
        assert len(driver.find_elements(By.CSS_SELECTOR, "tbody tr")) == 4
    finally:
        driver.quit()


def test_every_experiment_runs_one_point():
    for exp in EXPERIMENTS.values():
        point = grid_points(exp.axes)[0]
        if exp is not COMPARE and "blocks" not in point and exp.name == "chain-forks":
            point = {**point, "blocks": 5}
        row = exp.run(point, 0)
        assert row and exp.summarise([{**point, "seed": 0, **row}])["runs"] == 1


def test_bad_jobs_is_one_line_exit_2(capsys):
    from paxchain.checker.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["experiment", "compare", "--jobs", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
