"""The shard's pieces (``paxchain.checker.shard``) on their own: the numpy selections a level
relies on, the ranks placed in the level, the profile a parallel run reports, and the
protocol itself, shards run in one process: only the states that must cross do.

The whole search is compared with the sequential engine in ``tests/test_parallel.py``; these
pin what that comparison would only show as a wrong count somewhere.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from paxchain.checker import checkpoint
from paxchain.checker.level_search import select
from paxchain.checker.parallel import check as parallel
from paxchain.checker.portable import codec_for
from paxchain.checker.result import Options
from paxchain.checker.shard import Shard, _first_of_each, _least_of_each, places
from paxchain.checker.visited import signed64
from paxchain.models import registry


def test_first_of_each_is_numpys_unique_with_the_first_index():
    rnd = random.Random(1)
    fps = np.array([rnd.randrange(-5, 5) for _ in range(500)], dtype=np.int64)
    uniq, first = _first_of_each(fps)
    want_uniq, want_first = np.unique(fps, return_index=True)
    assert uniq.tolist() == want_uniq.tolist() and first.tolist() == want_first.tolist()
    empty = _first_of_each(np.zeros(0, dtype=np.int64))
    assert len(empty[0]) == len(empty[1]) == 0


def test_least_of_each_picks_the_least_rank_and_an_own_occurrence_of_every_fingerprint():
    rnd = random.Random(2)
    fps = np.array([rnd.randrange(0, 30) for _ in range(400)], dtype=np.int64)
    ranks = np.array(rnd.sample(range(10_000), 400), dtype=np.int64)
    win, low = _least_of_each(fps, ranks, below=100)
    best: dict[int, int] = {}
    for i, (f, r) in enumerate(zip(fps.tolist(), ranks.tolist())):
        if f not in best or r < ranks[best[f]]:
            best[f] = i
    assert win.tolist() == [best[f] for f in sorted(best)]
    # per fingerprint, an occurrence among the first 100 (the owner's own candidates), if any
    for f, k in zip(sorted(best), low.tolist()):
        assert (k >= 0) == (f in fps[:100].tolist())
        assert k < 0 or (k < 100 and fps[k] == f)
    assert len(_least_of_each(fps[:0], ranks[:0])[0]) == 0


def test_a_run_reports_each_workers_phases_cpu_and_memory():
    profile: list[dict] = []
    m = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    r = parallel(m, Options(), 2, profile=profile)
    assert r.stats.distinct == 3921 and len(profile) == 2
    for p in profile:
        assert {"expand", "sift", "exchange", "arbitrate", "ship", "check"} <= set(p["phases"])
        assert p["cpu"] > 0 and p["rss_mb"] > 0
    # the workers ship each other exactly the states that must cross (see below)
    assert sum(p["shipped"] for p in profile) == _needing_a_crossing(m, 2) > 0


def test_a_checkpoints_frontier_ranks_become_places_in_the_level():
    # format 1 kept the rank a state was generated with (parent << 20 | index): the resumed
    # shards number the level 0, 1, ... in that order, whatever the number of workers
    parts = [{"visited": [4, 7], "parents": [([4], [1])], "frontier": [(3 << 20 | 2, 4, "a")]},
             {"visited": [5], "parents": [([5], [1])],
              "frontier": [(3 << 20 | 1, 5, "b"), (9 << 20, 7, "c")]}]
    for n in (1, 2, 3):
        out = checkpoint.regroup(parts, n)
        assert sorted(f for o in out for f in o["frontier"]) == [(0, 5, "b"), (1, 4, "a"),
                                                                  (2, 7, "c")]
        assert all(f[1] % n == i for i, o in enumerate(out) for f in o["frontier"])


def _in_one_process(model, n: int, opt: Options | None = None) -> tuple[int, int, set]:
    """Run ``n`` shards level by level in this process (the protocol without a transport):
    (distinct states, states shipped between shards, the states the shards expanded)."""
    opt = opt or Options()
    codec = codec_for(model, opt.symmetry)
    props = select(model, opt)
    names = [p.name for p in props]
    shares: list[dict] = [{"frontier": []} for _ in range(n)]
    initial = list(model.initial_states())
    for i, s in enumerate(initial):
        fp = signed64(codec.key(s))
        shares[fp % n]["frontier"].append((i, fp, s))
    shards = [Shard(i, n, model, codec, props, opt, shares[i]) for i in range(n)]
    distinct, shipped, depth = len(initial), 0, 0
    expanded: set = set()
    while any(len(s.frontier) for s in shards):
        for s in shards:
            expanded.update(s.frontier.states)
        offers = [s.handle(("generate", depth, False, names))[1] for s in shards]
        asked = [s.handle(("arbitrate", [offers[k][j] for k in range(n)]))
                 for j, s in enumerate(shards)]
        payloads = [s.handle(("ship", [asked[j][1][k] for j in range(n)]))[1]
                    for k, s in enumerate(shards)]
        shipped += sum(len(p) for row in payloads for p in row if p is not None)
        replies = [s.handle(("finish", [payloads[k][j] for k in range(n)]))
                   for j, s in enumerate(shards)]
        assert all(r[0] == "level" for r in replies), replies
        for s, p in zip(shards, places([a[2] for a in asked])):
            s.handle(("placed", p))
        distinct += sum(r[2] for r in replies)
        depth += 1
    return distinct, shipped, expanded


def _first_found(model) -> set:
    """The states a plain breadth-first search with symmetry expands: of each orbit, the member
    it generates first (as the sequential engine keeps it)."""
    key = lambda s: model.fingerprint(model.representative(s))  # noqa: E731
    frontier = list(model.initial_states())
    seen = {key(s) for s in frontier}
    kept = set(frontier)
    while frontier:
        new = []
        for s in frontier:
            for t in model.next_states(s):
                if key(t) not in seen:
                    seen.add(key(t))
                    new.append(t)
        kept.update(new)
        frontier = new
    return kept


def _needing_a_crossing(model, n: int) -> int:
    """The new states of each level that their owner (fingerprint modulo ``n``) did not
    generate itself, by a plain breadth-first search: what has to cross between shards."""
    key = lambda s: signed64(model.fingerprint(s))  # noqa: E731
    frontier = list(model.initial_states())
    seen = {key(s) for s in frontier}
    crossing = 0
    while frontier:
        made: list[set[int]] = [set() for _ in range(n)]  # per owner: what its shard generated
        new = {}
        for s in frontier:
            here = key(s) % n
            for t in model.next_states(s):
                f = key(t)
                if t != s:
                    made[here].add(f)
                if f not in seen and f not in new:
                    new[f] = t
        crossing += sum(1 for f in new if f not in made[f % n])
        seen.update(new)
        frontier = list(new.values())
    return crossing


@pytest.mark.parametrize("n", [1, 2, 3])
def test_only_new_states_their_owner_did_not_generate_cross_between_shards(n):
    m = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    distinct, shipped, _ = _in_one_process(m, n)
    assert distinct == 3921
    assert shipped == _needing_a_crossing(m, n)
    assert (shipped == 0) == (n == 1)


@pytest.mark.parametrize("n", [2, 3])
def test_with_symmetry_the_shards_expand_the_orbit_member_the_sequential_search_keeps(n):
    # an owner's own candidate of the same orbit may be another member, whose successors come
    # in another order (other ranks, so other traces): under symmetry it is not taken instead
    # of the least-rank finder's
    m = registry.build("lamport-paxos", {"max_ballot": "2"}, None)
    distinct, _, expanded = _in_one_process(m, n, Options(symmetry=True))
    assert distinct == 17153
    assert expanded == _first_found(m)
