"""Progress lines: exact states per breadth-first level, memory, fitted to the width; and the
gate's progress, labelled with the check it is searching."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest

from paxchain.checker import progress
from paxchain.checker.explicit import check
from paxchain.checker.progress import _fields, _Levels, fit, progress_label, progress_reporter
from paxchain.checker.result import Options, Stats, Strategy
from paxchain.models import registry


def levels_by_hand(model) -> list[int]:
    """States per breadth-first level, by a plain search over the model's interface."""
    seen = {model.fingerprint(s) for s in model.initial_states()}
    level = list(model.initial_states())
    sizes = []
    while level:
        sizes.append(len(level))
        nxt = []
        for s in level:
            for t in model.next_states(s):
                fp = model.fingerprint(t)
                if fp not in seen:
                    seen.add(fp)
                    nxt.append(t)
        level = nxt
    return sizes


def search_levels(model, strategy: Strategy) -> tuple[_Levels, Stats]:
    """The levels the reporter's callback records over a whole search."""
    levels = _Levels()
    seen: list[Stats] = []

    def callback(stats):
        levels.see(stats)
        seen.append(stats)

    result = check(model, Options(strategy=strategy, progress=callback, progress_interval=0.0))
    return levels, result.stats


def test_levels_are_counted_exactly_from_the_engines_own_calls():
    model = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    levels, stats = search_levels(model, Strategy.BFS)
    assert levels.exact and levels.sizes == levels_by_hand(model)
    assert sum(levels.sizes) == stats.distinct and len(levels.sizes) == stats.depth + 1
    d = len(levels.sizes) - 1
    assert levels.text().startswith(f"level {d}: {levels.sizes[-1]:,}")


def test_a_depth_first_search_shows_no_level_counts_rather_than_wrong_ones():
    model = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    levels, _ = search_levels(model, Strategy.DFS)
    truth = levels_by_hand(model)
    assert levels.text() is None or levels.sizes == truth[:len(levels.sizes)]


def test_a_line_shows_memory_and_fits_the_width():
    levels = _Levels()
    stats = Stats(generated=123_456_789, distinct=98_765_432, queue=1_234_567, depth=17,
                  seconds=842.0)
    fields = _fields(stats, levels)
    assert any(re.fullmatch(r"[\d,]+ MB", f) for f in fields)
    for width in (20, 40, 60, 80, 200):
        line = fit(["[12/36] paxos-system-ci-bound-11-steps"] + fields, width)
        assert len(line) <= width, (width, line)
    assert fit(fields, 200).count(" · ") == len(fields) - 1
    assert fit(["a very long label"], 5) == "a ve…"


def test_plain_lines_are_labelled_fitted_and_silenced_by_quiet(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    monkeypatch.setenv("COLUMNS", "80")
    model = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    with progress_label("[2/5] my-check"):
        with progress_reporter(False, interval_plain=0.0) as (callback, interval):
            check(model, replace(Options(), progress=callback, progress_interval=interval))
    lines = err.getvalue().splitlines()
    assert lines and all(line.startswith("progress: [2/5] my-check · depth ") for line in lines)
    assert all(len(line) <= 80 for line in lines)
    assert any(" MB" in line for line in lines) and any("level " in line for line in lines)
    with progress_reporter(True) as (callback, _):
        assert callback is None


@pytest.fixture
def tty_stderr(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(progress.sys, "stderr", err)
    return err


def test_the_gate_shows_which_check_it_is_searching_on_a_terminal(tmp_path, tty_stderr):
    from paxchain.checker.suite import run_suite
    (tmp_path / "checks.toml").write_text(
        '[[check]]\nname = "first"\nmodel = "lamport-paxos"\nparams = { max_ballot = 0 }\n'
        '[[check]]\nname = "second"\nmodel = "lamport-paxos"\nparams = { max_ballot = 0 }\n')
    shown: list[str] = []

    def search(model, opts):
        with progress_reporter(False, interval_live=0.0) as (callback, interval):
            def spy(stats):
                callback(stats)
                shown.append(progress._label.get())
            return check(model, replace(opts, progress=spy, progress_interval=interval))

    code = run_suite(Options(), out=None, json_path=None, junit_path=None, summary_path=None,
                     artifacts_dir=None, checks_file=str(tmp_path / "checks.toml"),
                     search=search)
    assert code == 0
    assert "[1/2] first" in shown and "[2/2] second" in shown
    assert progress._label.get() == ""  # no label left behind
