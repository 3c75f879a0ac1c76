"""``--compact``: the same breadth-first search in flat tables and spilled levels.

Every model with reduction bounds, every variant and the correct code, at the first bound:
the compact search gives the same counts, verdicts and traces, state for state, as the
default one, with every reduction in force (subsumption's packed covers included). The parts
are checked on their own against what they replace: ``PackedCoverTable`` answers as
``CoverTable`` on random sequences (Hypothesis), ``ParentLog`` gives the dict's paths across
chunk boundaries, a level read back is the level written, and a ``Memo`` emptied at every few
entries changes no count.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from paxchain.checker.explicit import check
from paxchain.checker.levels import SpilledLevel
from paxchain.checker.result import Options, STOP_INTERRUPTED, STOP_MAX_STATES
from paxchain.checker.visited import ParentLog
from paxchain.models import memo, registry
from paxchain.models.subsumption import CoverTable, PackedCoverTable
from tests.test_bad_input import assert_bad_input, run_cli

CASES = [(name, e.reduction_bounds[0], variant)
         for name, e in sorted(registry.entries().items()) if e.reduction_bounds
         for variant in [None, *sorted(e.variants)]]
IDS = [f"{n}-{v or 'correct'}" for n, _, v in CASES]


def _build(name, bound, variant):
    return registry.build(name, {k: str(v) for k, v in bound.items()}, variant)


def _summary(result):
    """Everything a run reports: counts, verdicts, and each trace's labels and states."""
    return (result.stats.distinct, result.stats.generated, result.stats.depth,
            result.stopped_by, result.coverage,
            [(p.name, p.verdict, None if p.trace is None
              else [(str(s.label), s.state) for s in p.trace.steps])
             for p in result.properties])


@pytest.mark.parametrize("name, bound, variant", CASES, ids=IDS)
def test_compact_search_is_the_same_search(name, bound, variant):
    m = _build(name, bound, variant)
    opts = Options(symmetry=m.has_symmetry, keep_going=True)
    plain = check(m, opts)
    compact = check(_build(name, bound, variant), replace(opts, compact=True))
    assert _summary(compact) == _summary(plain)
    assert compact.reductions == plain.reductions


def test_first_violation_and_state_limit_stop_where_the_default_stops():
    args = {"acceptors": "3", "proposers": "2", "max_rounds": "1"}
    for opts in (Options(symmetry=True), Options(symmetry=True, max_states=5000),
                 Options(symmetry=True, max_depth=7)):
        plain = check(registry.build("paxos-system", args, "no_durable_storage"), opts)
        compact = check(registry.build("paxos-system", args, "no_durable_storage"),
                        replace(opts, compact=True))
        assert _summary(compact) == _summary(plain)
    assert plain.stopped_by is not None  # the depth bound cut it short: incomplete
    limited = check(registry.build("paxos-system", args),
                    Options(symmetry=True, max_states=5000, compact=True))
    assert limited.stopped_by == STOP_MAX_STATES and limited.stats.distinct == 5000


def test_an_interrupt_mid_level_is_incomplete():
    calls = []

    def progress(stats):
        calls.append(stats.distinct)
        if len(calls) == 3:
            raise KeyboardInterrupt

    r = check(registry.build("paxos-system", {"proposers": "2", "max_rounds": "1"}),
              Options(symmetry=True, compact=True, progress=progress, progress_interval=0))
    assert r.stopped_by == STOP_INTERRUPTED
    assert {p.verdict for p in r.properties} == {"incomplete"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.tuples(st.integers(0, 2), st.integers(0, 1)),
                          st.integers(0, 2 ** 70)), max_size=120),
       st.booleans())
def test_packed_covers_answer_as_the_cover_table(ops, multiset):
    packed, table = PackedCoverTable(capacity=4), CoverTable(hashed=True)
    for key, budgets, bits in ops:
        contents = (tuple(sorted(i % 5 for i in range(bits % 7))) if multiset else bits)
        assert packed.find(key, budgets, contents) == table.find(key, budgets, contents)
    assert packed.covered == table.covered


def test_parent_log_paths_cross_chunks(monkeypatch):
    monkeypatch.setattr(ParentLog, "CHUNK", 5)
    rng = random.Random(7)
    log, parent = ParentLog(), {}
    fps = list(dict.fromkeys(rng.randrange(-2 ** 63, 2 ** 63) for _ in range(60)))
    for i, fp in enumerate(fps):
        parent[fp] = None if i < 2 else fps[rng.randrange(i)]
        log[fp] = parent[fp]
    for fp in fps:
        want = [fp]
        while parent[want[-1]] is not None:
            want.append(parent[want[-1]])
        assert log.path(fp) == want[::-1]
    assert len(log) == len(fps) and fps[0] in log and 12345 not in log


def test_a_spilled_level_reads_back_in_order(monkeypatch):
    monkeypatch.setattr(SpilledLevel, "BATCH", 3)
    level = SpilledLevel()
    items = [((i, "x" * i), i * 31) for i in range(10)]
    for s, fp in items:
        level.append(s, fp)
    assert len(level) == 10 and list(level) == items
    level.close()


@pytest.mark.parametrize("args", [{"proposers": "1", "max_rounds": "2"},
                                  {"proposers": "2", "max_rounds": "1", "crashes": "0"}],
                         ids=["1x2", "2x1-no-crash"])
def test_memos_emptied_early_change_no_count(monkeypatch, args):
    full = registry.build("paxos-system", args)
    want = check(full, Options(symmetry=True))
    # unbounded here, the abstraction's and refinement's memos outgrow 64 entries
    assert len(full._abs_memo) > 64 and len(full.spec_memo["refinement"]) > 64
    monkeypatch.setattr(memo.Memo.__init__, "__defaults__", (64,))
    small = registry.build("paxos-system", args)
    got = check(small, Options(symmetry=True))
    assert _summary(got) == _summary(want)
    assert all(len(t) <= 64 for t in small.spec_memo.values())
    assert len(small._abs_memo) <= 64


def test_compact_refuses_what_it_does_not_do():
    for extra in (["--dfs"], ["--workers", "2"], ["--exact"], ["--engine", "random"]):
        code, out, err = run_cli("check", "paxos-system", "--compact", "-q", *extra)
        assert_bad_input(code, err)
        assert "--compact" in err and out == ""


def test_a_memo_travels_empty():
    # Ray ships a model by pickling it, memos and all: a filled cache arrives as an empty one
    # with its limit (unpickling its entries would call ``__setitem__`` before ``limit`` is set).
    import pickle

    table, named = memo.Memo(limit=8), memo.Memos()
    table[1] = "one"
    named["agreement"][(1, 2)] = True
    back, named_back = pickle.loads(pickle.dumps((table, named)))
    assert back == {} and back.limit == 8 and isinstance(back, memo.Memo)
    assert named_back == {"agreement": {}} and isinstance(named_back["agreement"], memo.Memo)
