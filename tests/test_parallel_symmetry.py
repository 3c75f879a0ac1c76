"""Symmetry under the parallel engine for an actor system (``ActorSystem.portable_orbit_key``).

Its representative picks an orbit member by this process's interned ids, so the workers key a
reduced state by the least portable key over its orbit instead. Here every paxos-system variant
(and the correct system) is searched with symmetry by the sequential engine and by two workers,
to the end (``keep_going``): every verdict, trace length and count must be equal. Small bounds
only; nothing here is timed.
"""

from __future__ import annotations

import pytest

from paxchain.checker.explicit import check as sequential
from paxchain.checker.parallel import check as parallel
from paxchain.checker.result import Options, Result
from paxchain.models import registry

# subsume=0: the parallel engines refuse subsumption. One bound with a crash (budgets and
# restarts count), one with two rounds (where most variants break a property).
BOUNDS = [{"acceptors": "3", "proposers": "1", "max_rounds": "1", "crashes": "1", "subsume": "0"},
          {"acceptors": "3", "proposers": "1", "max_rounds": "2", "crashes": "0", "subsume": "0"}]
VARIANTS = [None, *sorted(registry.entry("paxos-system").variants)]


def exhaustive(r: Result) -> tuple:
    """What an exhaustive search reports that must not depend on the number of workers (an
    interning model lists successors in per-process order, so traces are compared by length)."""
    s = r.stats
    return (r.verdict, r.stopped_by, s.distinct, s.generated, s.depth,
            [x.split(" (premise failed")[0] for x in r.reductions],
            [(p.name, p.verdict, None if p.trace is None else len(p.trace.steps))
             for p in r.properties])


@pytest.mark.parametrize("bound", BOUNDS, ids=["crash", "two_rounds"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_symmetry_with_two_workers_gives_the_sequential_results(variant, bound):
    options = Options(symmetry=True, keep_going=True)
    a = sequential(registry.build("paxos-system", bound, variant), options)
    b = parallel(registry.build("paxos-system", bound, variant), options, 2)
    assert exhaustive(b) == exhaustive(a)


def test_the_orbit_key_reduces_as_the_representative_does():
    # 1,861 states without symmetry, 445 orbits: both engines count orbits, not states
    options = Options(symmetry=True)
    reduced = parallel(registry.build("paxos-system", BOUNDS[0], None), options, 2)
    full = parallel(registry.build("paxos-system", BOUNDS[0], None), Options(), 2)
    assert (reduced.stats.distinct, full.stats.distinct) == (445, 1861)
    assert reduced.verdict == full.verdict == "holds"
