"""The engine on random graphs (Hypothesis): what it reaches, and how far, is what a plain
breadth-first search over the same graph says."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from paxchain.checker import HOLDS, INCOMPLETE, VIOLATED, Options, check
from paxchain.models.model import Label, Model
from paxchain.models.properties import invariant


@invariant()
def avoids_target(m, s) -> bool:
    """The target node is never reached."""
    return s != m.target


class Graph(Model):
    def __init__(self, edges: dict[int, list[int]], target: int) -> None:
        super().__init__("graph", {"target": target})
        self.edges, self.target = edges, target

    def initial_states(self):
        return [0]

    def successors(self, state):
        return [(Label("Go", (("to", t),)), t) for t in self.edges.get(state, [])]

    def properties(self):
        return [avoids_target.bind(self)]


def distances(edges, start=0):
    dist = {start: 0}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for t in edges.get(s, []):
            if t not in dist:
                dist[t] = dist[s] + 1
                queue.append(t)
    return dist


graphs = st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.dictionaries(st.integers(0, n - 1), st.lists(st.integers(0, n - 1), max_size=4)),
    st.integers(1, n - 1)))


@settings(max_examples=200, deadline=None)
@given(graphs, st.sampled_from(["bfs", "dfs"]))
def test_reaches_exactly_the_reachable_nodes(graph, strategy):
    edges, target = graph
    dist = distances(edges)
    r = check(Graph(edges, target), Options(strategy=strategy, keep_going=True))
    assert r.stats.distinct == len(dist)
    p = r.get("avoids_target")
    if target in dist:
        assert p.verdict == VIOLATED
        path = [s.state for s in p.trace.steps]
        assert path[0] == 0 and path[-1] == target
        assert all(b in edges.get(a, []) for a, b in zip(path, path[1:]))
        if strategy == "bfs":
            assert len(path) - 1 == dist[target]  # shortest
    else:
        assert p.verdict == HOLDS


@settings(max_examples=100, deadline=None)
@given(graphs, st.integers(0, 6))
def test_depth_bound_is_incomplete_exactly_when_something_lies_beyond(graph, bound):
    edges, target = graph
    dist = distances(edges)
    r = check(Graph(edges, len(edges) + 100), Options(max_depth=bound))
    beyond = any(d > bound for d in dist.values())
    assert r.verdict == (INCOMPLETE if beyond else HOLDS)
    assert r.stats.distinct == sum(1 for d in dist.values() if d <= bound)


@settings(max_examples=150, deadline=None)
@given(graphs, st.integers(1, 12))
def test_a_cut_short_search_names_the_depth_it_covered(graph, max_states):
    # Stopped by the state bound, breadth-first search claims every run of up to
    # checked_depth steps: every node that close is counted, and the target is reported
    # violated whenever it is that close.
    edges, target = graph
    dist = distances(edges)
    r = check(Graph(edges, target), Options(max_states=max_states, keep_going=True))
    if r.exhaustive:
        assert r.stats.checked_depth is None and r.stats.distinct == len(dist)
        return
    d = r.stats.checked_depth
    assert d is not None and r.stats.distinct >= sum(1 for x in dist.values() if x <= d)
    if dist.get(target, d + 1) <= d:
        assert r.get("avoids_target").verdict == VIOLATED
