"""The actor system's pluggable parts that the chain is configured from
(``paxchain.models.actor_system``): an environment action (``Mining``) with its count and
delay bound, a clock that reads the state, stamped messages, ``restart_at_once`` and
``crash_lost`` — on toy actors, with counts small enough to follow by hand — and the chain
model as a configuration of that one system."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from paxchain.checker.explicit import reachable_states
from paxchain.checker.portable import plain_states
from paxchain.impl.actor import Persist, Send
from paxchain.models.actor_system import ActorSystem
from paxchain.models.chain_system import ChainSystem
from paxchain.models.clocks import MinedClock
from paxchain.models.environment import Mining
from paxchain.models.model import ReductionUnsound
from paxchain.models.networks import network


@dataclass(frozen=True)
class Note:
    pass


@dataclass(frozen=True)
class Ack:
    pass


class Miner:
    """State ``(clock readings at which it mined, messages received)``; each ``mine`` firing
    persists the count of blocks it found and sends a ``Note`` to the other node, which
    answers it with an ``Ack``."""

    def on_start(self, node, durable, now):
        return ((), 0), []

    def on_message(self, node, state, src, msg, now):
        return (state[0], state[1] + 1), [Send(src, Ack())] if isinstance(msg, Note) else []

    def on_timer(self, node, state, name, now):
        other = "b" if node == "a" else "a"
        return (state[0] + (now,), state[1]), [Persist(len(state[0]) + 1), Send(other, Note())]


class Talker(Miner):
    """A ``Miner`` that greets the other node when it (re)starts."""

    def on_start(self, node, durable, now):
        return ((), 0), [Send("b" if node == "a" else "a", Note())]


def mining(budget=1, delay=None, offsets=(0,), **kw):
    return ActorSystem([("a", Miner()), ("b", Miner())], environment=Mining(budget, delay),
                       clock=MinedClock(10, offsets), keep_timers=False, **kw)


def steps(m, s):
    return [(str(label), t) for label, t in m.successors(s)]


def test_mine_is_an_environment_action_that_moves_the_clock_and_stamps_sends():
    m = mining()
    s0, = m.initial_states()
    assert m.mined(s0) == 0 and m.network(s0) == []
    assert m.actions()[:2] == ("Mine", "Deliver")
    (first, t), (second, _) = steps(m, s0)
    assert (first, second) == ("Mine(node=a)", "Mine(node=b)")  # environment steps come first
    # a read the clock after the block it found (1 block * interval 10), and its Note carries
    # the count at its send
    assert m.mined(t) == 1 and m.node_states(t)[0] == ((10,), 0)
    assert m.network(t) == [("a", "b", Note())] and m.stamps(t) == [1]
    assert m.durables(t) == (1, None) and m.node(t, "a").timers == ()
    # The budget is spent: only the delivery is left.
    assert [label for label, _ in steps(m, t)] == ["Deliver(src=a, dst=b, msg=Note(), sent=1)"]
    # 7 states: the start, a or b mined (2), then its Note delivered (2), then the Ack (2).
    assert len(reachable_states(m)) == 7


@pytest.mark.parametrize("delay,after_one", [(None, ["Mine", "Mine", "Deliver"]),
                                             (1, ["Mine", "Mine", "Deliver"]),
                                             (0, ["Deliver"])])
def test_the_delay_bound_reads_the_stamps(delay, after_one):
    # delay 0: no block while anything is in flight; delay 1: one more block may be found
    # while a message sent at block 1 waits, but not a second one (budget 3).
    m = mining(budget=3, delay=delay)
    _, t = steps(m, m.initial_states()[0])[0]
    assert [label.action for label, _ in m.successors(t)] == after_one
    if delay == 1:
        _, u = next((label, x) for label, x in m.successors(t) if label.action == "Mine")
        assert m.mined(u) == 2 and sorted(m.stamps(u)) == [1, 2]
        assert [label.action for label, _ in m.successors(u)] == ["Deliver", "Deliver"]


def test_clock_offsets_are_chosen_in_the_initial_state():
    m = mining(offsets=(0, -5))
    starts = m.initial_states()
    assert len(starts) == 4  # every assignment of the two offsets to the two nodes
    s = starts[1]  # a: 0, b: -5 (the clock's order)
    assert [m.now(s, i) for i in range(2)] == [0, -5]
    _, t = steps(m, s)[1]  # b mines: it reads 1 * 10 - 5
    assert m.node_states(t)[1] == ((5,), 0) and m.now(t, 0) == 10


def test_a_clock_that_reads_the_state_needs_an_environment():
    with pytest.raises(ValueError, match="environment"):
        ActorSystem([("a", Miner())], clock=MinedClock(10, (0,)))


def test_restart_at_once_makes_crash_and_restart_one_step():
    m = mining(crashes=1, crash_points=False, restart_at_once=True)
    assert m.actions() == ("Mine", "Deliver", "Crash")  # no Restart: nothing is ever down
    _, t = steps(m, m.initial_states()[0])[0]
    label, u = next((label, x) for label, x in m.successors(t) if label.action == "Crash")
    assert label.events == ("crash", "restart") and label.args == (("node", "a"),)
    # a restarted from what it persisted (its count), with its volatile state fresh
    assert m.is_up(u, 0) and m.node_states(u)[0] == ((), 0) and m.durables(u)[0] == 1
    assert m.remaining(u) == (0, 0, 0) and m.network(u) == m.network(t)


def test_restart_at_once_refuses_a_restart_that_sends():
    m = ActorSystem([("a", Talker()), ("b", Talker())], environment=Mining(1),
                    clock=MinedClock(10, (0,)), keep_timers=False, crashes=1,
                    restart_at_once=True)
    with pytest.raises(ReductionUnsound) as err:
        reachable_states(m)
    assert err.value.reduction == "restart_at_once" and "sends 1 message" in err.value.detail


def test_crash_lost_records_a_crash_point_that_keeps_a_send_from_leaving():
    m = mining(crashes=1, crash_lost=True, restart_at_once=True)
    s0 = m.initial_states()[0]
    assert m.lost(s0) is False
    by_label = dict(steps(m, s0))
    # Mine's units: Persist | Send. A crash after the Persist: the Note never leaves.
    t = by_label["Mine(node=a, crash_after=1)"]
    assert m.lost(t) is True and m.network(t) == [] and m.durables(t)[0] == 1
    whole = by_label["Mine(node=a)"]
    assert m.lost(whole) is False
    # A delivery may crash before acting (u = 0): the Note was taken, and is lost; the Ack
    # is its only effect unit, so there is no other crash point.
    after = dict(steps(m, whole))
    t = after["Deliver(src=a, dst=b, msg=Note(), sent=1, crash_after=0)"]
    assert m.lost(t) is True and m.network(t) == [] and m.node_states(t)[1] == ((), 0)
    assert [k for k in after if "crash_after" in k] == [
        "Deliver(src=a, dst=b, msg=Note(), sent=1, crash_after=0)"]


def test_an_unordered_network_sorts_by_the_models_order():
    net = network("budgeted", order=lambda e: -e)
    assert net.add((), (1, 3, 2)) == (3, 2, 1) and net.canonical([2, 3]) == (3, 2)
    assert network("budgeted").add((), (1, 3, 2)) == (1, 2, 3)


def test_the_chain_is_a_configuration_of_the_actor_system():
    m = ChainSystem(nodes=2, budget=1, crashes=0)
    assert isinstance(m, ActorSystem) and plain_states(m)
    assert m.environment == Mining(1, 1, "mine") and isinstance(m.clock, MinedClock)
    assert not m.keep_timers and not m.keep_outputs and m.extras == ("mined", "offsets", "lost")
    s0, = m.initial_states()
    assert m.nodes(s0)["n1"].up and m.mined(s0) == 0 and m.now(s0, 1) == 0
    _, t = steps(m, s0)[0]
    assert m.stamps(t) == [1] and [x[:2] for x in m.network(t)] == [("n1", "n2")]
    # A state holds values, not ids into the tables of one process: it round-trips by name.
    assert m.from_vars(m.to_vars(t)) == t
