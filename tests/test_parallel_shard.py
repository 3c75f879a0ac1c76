"""The shard's pieces (``paxchain.checker.shard``) on their own: the numpy selections a level
relies on, the ranks placed in the level, and the profile a parallel run reports.

The whole search is compared with the sequential engine in ``tests/test_parallel.py``; these
pin what that comparison would only show as a wrong count somewhere.
"""

from __future__ import annotations

import random

import numpy as np

from paxchain.checker import checkpoint
from paxchain.checker.parallel import check as parallel
from paxchain.checker.result import Options
from paxchain.checker.shard import _first_of_each, _least_of_each
from paxchain.models import registry


def test_first_of_each_is_numpys_unique_with_the_first_index():
    rnd = random.Random(1)
    fps = np.array([rnd.randrange(-5, 5) for _ in range(500)], dtype=np.int64)
    uniq, first = _first_of_each(fps)
    want_uniq, want_first = np.unique(fps, return_index=True)
    assert uniq.tolist() == want_uniq.tolist() and first.tolist() == want_first.tolist()
    empty = _first_of_each(np.zeros(0, dtype=np.int64))
    assert len(empty[0]) == len(empty[1]) == 0


def test_least_of_each_picks_the_least_rank_of_every_fingerprint():
    rnd = random.Random(2)
    fps = np.array([rnd.randrange(0, 30) for _ in range(400)], dtype=np.int64)
    ranks = np.array(rnd.sample(range(10_000), 400), dtype=np.int64)
    win = _least_of_each(fps, ranks)
    best: dict[int, int] = {}
    for i, (f, r) in enumerate(zip(fps.tolist(), ranks.tolist())):
        if f not in best or r < ranks[best[f]]:
            best[f] = i
    assert sorted(win.tolist()) == sorted(best.values())


def test_a_run_reports_each_workers_phases_cpu_and_memory():
    profile: list[dict] = []
    m = registry.build("lamport-paxos", {"max_ballot": "1"}, None)
    r = parallel(m, Options(), 2, profile=profile)
    assert r.stats.distinct == 3921 and len(profile) == 2
    for p in profile:
        assert {"expand", "sift", "exchange", "absorb", "check"} <= set(p["phases"])
        assert p["cpu"] > 0 and p["rss_mb"] > 0


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
