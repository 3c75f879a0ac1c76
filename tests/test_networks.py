"""The named networks (``paxchain.models.networks``) alone, and under the actor system, with
state counts small enough to count by hand (each explained where it is asserted)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from paxchain.checker import HOLDS, Options, check
from paxchain.checker.explicit import reachable_states
from paxchain.impl.actor import Persist, Send
from paxchain.models.actor_system import NETWORKS, ActorSystem
from paxchain.models.faults import DROP, DUPLICATE
from paxchain.models.networks import Budgeted, Duplicating, Fifo, SendOrder, network
from paxchain.models.registry import build


@dataclass(frozen=True)
class Set:
    value: int


class Register:
    """Holds the value of the last Set that changed it, and persists it."""

    def on_start(self, node, durable, now):
        return (durable if durable is not None else 0), []

    def on_message(self, node, state, src, msg, now):
        if isinstance(msg, Set) and msg.value != state:
            return msg.value, [Persist(msg.value)]
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Writer:
    """Sends the Sets ``values`` to ``r`` in that order when it starts."""

    def __init__(self, *values):
        self.values = values

    def on_start(self, node, durable, now):
        return "w", [Send("r", Set(v)) for v in self.values]

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


def writes(*values, **kw) -> ActorSystem:
    return ActorSystem([("w", Writer(*values)), ("r", Register())], types=(Set,), **kw)


def count(model) -> int:
    r = check(model, Options(deadlock=True, keep_going=True))
    assert r.exhaustive
    return r.stats.distinct


# -- the networks alone ---------------------------------------------------------------------

def test_every_network_is_chosen_by_name_and_a_wrong_name_lists_them():
    assert set(NETWORKS) == {"budgeted", "duplicating", "fifo", "sequence"}
    assert isinstance(network("fifo", link=lambda e: e[0]), Fifo)
    with pytest.raises(ValueError, match="known: budgeted, duplicating, fifo, sequence"):
        network("lossy")


def test_the_multiset_takes_one_copy_of_each_distinct_envelope():
    b = Budgeted()
    assert b.add((1, 3), (2, 1)) == (1, 1, 2, 3)
    assert b.deliveries((1, 1, 2)) == [(1, (1, 2)), (2, (1, 1))]
    assert b.drops((1, 1, 2)) == b.deliveries((1, 1, 2))
    assert b.duplicates((1, 2)) == [(1, (1, 1, 2)), (2, (1, 2, 2))]
    assert b.consumes and b.faults == (DROP, DUPLICATE)


def test_the_duplicating_set_keeps_what_it_delivers_and_has_no_faults():
    d = Duplicating()
    assert d.add((1, 3), (3, 2)) == (1, 2, 3)
    assert list(d.deliveries((1, 2))) == [(1, (1, 2)), (2, (1, 2))]
    assert d.drops((1, 2)) == [] and d.duplicates((1, 2)) == [] and d.faults == ()
    assert not d.consumes and d.valid((1, 1)) is not None


def test_fifo_delivers_only_the_head_of_each_link_in_send_order():
    # envelopes are (link, n); the link is the first element
    f = Fifo(link=lambda e: e[0])
    net = f.add((), (("b", 1), ("a", 1), ("b", 2)))
    assert net == (("a", 1), ("b", 1), ("b", 2))  # queues in link order, each in send order
    assert [e for e, _ in f.deliveries(net)] == [("a", 1), ("b", 1)]
    assert f.add(net, (("a", 2),)) == (("a", 1), ("a", 2), ("b", 1), ("b", 2))
    assert [e for e, _ in f.drops(net)] == [("a", 1), ("b", 1), ("b", 2)]  # any may be lost
    assert f.duplicates((("a", 1),)) == [(("a", 1), (("a", 1), ("a", 1)))]
    assert not f.prunes_noops and f.ordered


def test_the_send_order_sequence_lets_any_envelope_go_next():
    s = SendOrder()
    assert s.add((2,), (1,)) == (2, 1)
    assert s.deliveries((2, 1, 2)) == [(2, (1, 2)), (1, (2, 2)), (2, (2, 1))]


def test_the_send_order_sequence_duplicates_envelopes_that_have_no_order():
    # The chain's envelopes carry block messages, which do not compare: each distinct
    # envelope is offered once, in send order, without sorting them.
    class Msg:
        pass

    a, b = (0, 1, Msg()), (1, 0, Msg())
    assert SendOrder().duplicates((a, b, a)) == [(a, (a, b, a, a)), (b, (a, b, a, b))]


# -- under the actor system -------------------------------------------------------------------

def test_fifo_keeps_a_links_order_that_the_multiset_does_not():
    # FIFO: {0, [S1, S2]} -> {1, [S2]} -> {2, []}: 3 states, and the register ends at 2.
    m = writes(1, 2, network="fifo")
    assert count(m) == 3
    assert {m.node(s, "r").state for s in reachable_states(m) if not m.network(s)} == {2}
    # The multiset delivers either first: {0, S1 S2}, {1, S2}, {2, S1}, {2}, {1}: 5 states.
    assert count(writes(1, 2, network="budgeted")) == 5


def test_on_fifo_a_delivery_that_changes_nothing_still_consumes_its_message():
    # [S1, S1, S2]: the second S1 changes nothing, but it must leave the queue to let S2
    # through: {0, [S1 S1 S2]}, {1, [S1 S2]}, {1, [S2]}, {2, []}: 4 states.
    assert count(writes(1, 1, 2, network="fifo")) == 4
    # On the multiset such a delivery is no step (the noop reduction): {0, S1 S1 S2},
    # {1, S1 S2}, {2, S1 S1}, {2, S1}, {1, S1}, {1} -- 6 states, two of them stuck with an
    # ignorable S1 in flight.
    m = writes(1, 1, 2, network="budgeted")
    assert count(m) == 6
    assert [r.name for r in m.reductions()] == ["noop"]
    assert [r.name for r in writes(1, 2, network="fifo").reductions()] == []


def test_fifo_loses_any_message_within_the_drop_budget():
    # Budget 1 over [S1, S2]: the 3 states of the reliable run (budget left), plus, with the
    # budget spent: [S2] and [S1] with the register at 0 (either lost first), 1 with nothing
    # left (S2 lost after S1 arrived), and 2 (S2 after S1 was lost). 3 + 4 = 7.
    m = writes(1, 2, network="fifo", drops=1)
    assert count(m) == 7
    assert DROP in m.actions() and DUPLICATE not in m.actions()


def test_fifo_states_round_trip_through_their_trace_values():
    m = writes(1, 1, 2, network="fifo", drops=1, duplicates=1)
    for s in reachable_states(m):
        v = m.to_vars(s)
        assert isinstance(v["network"], tuple)  # in order, not a count per envelope
        assert m.from_vars(v) == s


def _node_projection(m) -> set:
    return {(tuple((x, v.up, v.durable, v.state, v.timers) for x, v in m.nodes(s).items()),
             m.outputs(s), m.history(s)) for s in reachable_states(m)}


def test_paxos_on_fifo_links_buries_dead_messages_without_changing_what_nodes_reach():
    # On fifo a dead message's delivery is still a step (it leaves the queue), so the burial
    # premise asks whether it changes the receiver, not whether it is a step: bury stays on,
    # and the node states, outputs and histories reached are those of the unreduced search.
    params = {"proposers": "1", "max_rounds": "1", "crashes": "0", "network": "fifo"}
    on, off = build("paxos-system", params), build("paxos-system", {**params, "bury": "0"})
    assert _node_projection(on) == _node_projection(off)
    r = check(on, Options())
    assert r.verdict == HOLDS and "bury on" in r.reductions
