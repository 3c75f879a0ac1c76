"""The generic actor-system model (``paxchain.models.actor_system``) on toy actors, with state counts
small enough to count by hand (each count is explained where it is asserted)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from paxchain.checker import Options, check
from paxchain.checker.explicit import reachable_states
from paxchain.models.properties import invariant
from paxchain.checker.trace import replay
from paxchain.models.values import Record
from paxchain.impl.actor import Output, Persist, Send, SetTimer
from paxchain.models.actor_system import ActorSystem, from_plain, rename_ids, to_plain
from paxchain.models.clocks import FixedClock, MinedClock


@dataclass(frozen=True)
class Ping:
    n: int


@dataclass(frozen=True)
class Pong:
    n: int


@dataclass(frozen=True)
class Hello:
    pass


@dataclass(frozen=True)
class Set:
    value: int


class Client:
    """Sends Ping(1) to ``s`` when it starts; becomes ``done`` on a Pong; ignores the rest."""

    def on_start(self, node, durable, now):
        return "waiting", [Send("s", Ping(1))]

    def on_message(self, node, state, src, msg, now):
        if isinstance(msg, Pong) and state == "waiting":
            return "done", [Output(("got", msg.n))]
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Server:
    """Stateless echo: answers every Ping with a Pong."""

    def on_start(self, node, durable, now):
        return "ready", []

    def on_message(self, node, state, src, msg, now):
        if isinstance(msg, Ping):
            return state, [Send(src, Pong(msg.n))]
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Register:
    """Stores the value of a Set; persists it unless ``durable`` is off."""

    def __init__(self, durable=True):
        self.durable = durable

    def on_start(self, node, durable, now):
        return (durable if durable is not None else 0), []

    def on_message(self, node, state, src, msg, now):
        if isinstance(msg, Set) and msg.value != state:
            return msg.value, ([Persist(msg.value)] if self.durable else [])
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Writer:
    def on_start(self, node, durable, now):
        return "w", [Send("r", Set(1))]

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Ticker:
    """Counts timer firings up to 2, re-arming its timer every time."""

    def on_start(self, node, durable, now):
        return 0, [SetTimer("t", 1.0)]

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return min(state + 1, 2), [SetTimer("t", 1.0)]


class Broadcaster:
    def on_start(self, node, durable, now):
        return "b", [Send(x, Hello()) for x in ("l1", "l2", "l3")]

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


class Listener:
    def on_start(self, node, durable, now):
        return False, []

    def on_message(self, node, state, src, msg, now):
        return (True, []) if isinstance(msg, Hello) else (state, [])

    def on_timer(self, node, state, name, now):
        return state, []


TYPES = (Ping, Pong, Hello, Set)


def ping_pong(**kw) -> ActorSystem:
    return ActorSystem([("c", Client()), ("s", Server())], types=TYPES, **kw)


def reachable(model) -> set:
    return reachable_states(model)


def count(model, **opts) -> int:
    # These models carry no property; the deadlock check (kept going past any terminal
    # state) is what the search checks, so it runs to the end.
    r = check(model, Options(deadlock=True, keep_going=True, **opts))
    assert r.exhaustive
    return r.stats.distinct


def test_reliable_ping_pong_has_three_states():
    # Ping in flight -> Pong in flight -> client done with an empty network.
    assert count(ping_pong()) == 3


def test_one_drop_adds_one_state():
    # The three reliable states (drop budget 1), plus "nothing in flight, client waiting,
    # budget 0", reached by dropping the Ping or the Pong: the server keeps no state, so both
    # losses end in the same state. 3 + 1 = 4.
    assert count(ping_pong(drops=1)) == 4


def test_one_duplicate_gives_eight_states():
    # Budget 1: [Ping], [Pong], done.  Budget 0, reached by duplicating: [Ping, Ping],
    # [Ping, Pong], [Pong, Pong], done + [Ping], done + [Pong] (the last Pong reaches a done
    # client, which ignores it: a no-op, so it stays in flight). 3 + 5 = 8.
    assert count(ping_pong(duplicates=1)) == 8


def test_ignored_message_stays_in_flight_and_is_no_transition():
    m = ping_pong(duplicates=1)
    done_with_pong = [s for s in reachable(m)
                      if m.node(s, "c").state == "done" and len(m.network(s)) == 1
                      and isinstance(m.network(s)[0][2], Pong)]
    assert len(done_with_pong) == 1
    assert m.successors(done_with_pong[0]) == []


def test_duplicating_network_keeps_every_message():
    # {Ping}; {Ping, Pong} after the server answers (answering again changes nothing: pruned);
    # client done with {Ping, Pong}. 3 states, and no drop or duplicate actions.
    m = ping_pong(network="duplicating", drops=5, duplicates=5)
    assert count(m) == 3
    assert m.actions() == ("Deliver", "Timer")


def test_crash_keeps_only_durable_state():
    # s0 register 0, Set in flight; s1 register 1 (persisted); s2 s0 crashed; s3 s1 crashed
    # (durable 1); s4 s2 restarted (0, Set still in flight: a message to a down node waits);
    # s5 s3 restarted, which equals s4 after delivering Set (register 1, durable 1, budget 0).
    m = ActorSystem([("r", Register()), ("w", Writer())], crashes=1, crashable=["r"],
                    types=TYPES, crash_points=False)
    assert count(m) == 6
    # Crash points add a crash that falls as r receives Set, before its Persist: s6 r down,
    # Set consumed (lost with the crash, on this consuming network), and s7 its restart
    # (register 0, nothing in flight, budget 0).
    m = ActorSystem([("r", Register()), ("w", Writer())], crashes=1, crashable=["r"],
                    types=TYPES)
    assert count(m) == 8
    assert any(not m.node(s, "r").up and not m.network(s) and m.node(s, "r").durable is None
               for s in reachable(m))
    # Without persisting, s1 crashed and restarted forgets the write: one more state.
    lossy = ActorSystem([("r", Register(durable=False)), ("w", Writer())], crashes=1,
                        crashable=["r"], types=TYPES, crash_points=False)
    states = reachable(lossy)
    assert len(states) == 7
    assert any(lossy.node(s, "r").state == 0 and not lossy.network(s)
               and lossy.remaining(s)[2] == 0 for s in states)


def test_timers_fire_at_any_time_and_a_refiring_noop_is_pruned():
    # Count 0, 1, 2, timer always set; firing at 2 leaves the state as it was (pruned).
    m = ActorSystem([("t", Ticker())])
    states = reachable(m)
    assert sorted(m.node(s, "t").state for s in states) == [0, 1, 2]
    last = next(s for s in states if m.node(s, "t").state == 2)
    assert m.successors(last) == []


def test_symmetry_counts_orbits():
    # Each listener heard or not: 2**3 = 8 states; under permutations of l1..l3 only the
    # number that heard matters: 0..3, 4 orbits.
    m = ActorSystem([("b", Broadcaster())] + [(f"l{i}", Listener()) for i in (1, 2, 3)],
                    symmetric=[("l1", "l2", "l3")], types=TYPES)
    assert count(m) == 8
    assert count(m, symmetry=True) == 4
    states = reachable(m)
    assert {m.representative(s) for s in states} <= states
    assert len({m.representative(s) for s in states}) == 4


def test_labels_name_lanes_messages_and_faults():
    m = ping_pong(drops=1)
    s0 = m.initial_states()[0]
    labels = [lb for lb, _ in m.successors(s0)]
    deliver, drop = labels
    assert (deliver.action, deliver.lane) == ("Deliver", "s")
    assert deliver.reads == (Record("Ping", (("src", "c"), ("dst", "s"), ("n", 1))),)
    assert deliver.sends == (Record("Pong", (("src", "s"), ("dst", "c"), ("n", 1))),)
    assert (drop.action, drop.events) == ("Drop", ("drop",))
    assert str(deliver) == "Deliver(src=c, dst=s, msg=Ping(n=1))"


def test_to_vars_round_trips_every_reachable_state():
    m = ActorSystem([("r", Register()), ("w", Writer())], crashes=1, duplicates=1,
                    types=TYPES)
    for s in reachable(m):
        assert m.from_vars(m.to_vars(s)) == s


def test_plain_values_and_renaming():
    assert to_plain(Ping(3)) == Record("Ping", (("n", 3),))
    assert from_plain(Record("Ping", (("n", 3),)), {"Ping": Ping}) == Ping(3)
    assert rename_ids((frozenset({"l1"}), "l2", 3), {"l1": "l2", "l2": "l1"}) == (
        frozenset({"l2"}), "l1", 3)
    with pytest.raises(ValueError):
        from_plain(Record("Nope", ()), {"Ping": Ping})


class _Checked(ActorSystem):
    def properties(self):
        @invariant()
        def never_done(m, s):
            """The client never finishes (false, to get a trace)."""
            return m.node(s, "c").state != "done"
        return [never_done.bind(self)]


def test_trace_replays_after_a_json_round_trip():
    m = _Checked([("c", Client()), ("s", Server())], drops=1, duplicates=1, types=TYPES)
    r = check(m, Options())
    trace = r.get("never_done").trace
    assert len(trace.steps) == 3  # the initial state, the Ping delivered, the Pong delivered
    fresh = _Checked([("c", Client()), ("s", Server())], drops=1, duplicates=1, types=TYPES)
    again = replay(fresh, json.loads(trace.dumps()))
    assert again.outcome == "violation"
    assert [str(s.label) for s in again.trace.steps[1:]] == [str(s.label) for s in trace.steps[1:]]


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError):
        ping_pong(drops=-1)
    with pytest.raises(ValueError):
        ping_pong(network="ordered")
    with pytest.raises(ValueError):
        ActorSystem([("a", Server()), ("a", Server())])


class Replier:
    """Answers a Ping with a Pong and persists the count, in the order given."""

    def __init__(self, persist_first=True):
        self.persist_first = persist_first

    def on_start(self, node, durable, now):
        return (durable or 0), []

    def on_message(self, node, state, src, msg, now):
        if not isinstance(msg, Ping) or state:
            return state, []
        write, reply = Persist(1), Send(src, Pong(1))
        return 1, [write, reply] if self.persist_first else [reply, write]

    def on_timer(self, node, state, name, now):
        return state, []


def test_a_crash_can_fall_between_a_reply_and_its_write():
    # Write-ahead (Persist, then Send): no reachable state has the Pong out and the write
    # lost. Reply first: a crash after the Send, before the Persist, leaves exactly that.
    def lost_write(m):
        return [s for s in reachable(m) if not m.node(s, "s").up
                and m.node(s, "s").durable is None
                and any(isinstance(msg, Pong) for _, _, msg in m.network(s))]
    for persist_first, found in ((True, 0), (False, 1)):
        m = ActorSystem([("c", Client()), ("s", Replier(persist_first))], crashes=1,
                        crashable=["s"], types=TYPES)
        assert len(lost_write(m)) == found
        labels = [lab for s in reachable(m) for lab, _ in m.successors(s)
                  if "crash" in lab.events and lab.action == "Deliver"]
        assert labels and all(dict(lab.args)["crash_after"] in (0, 1) for lab in labels)



class Stamp:
    """Keeps the clock reading it started at."""

    def on_start(self, node, durable, now):
        return now, []

    def on_message(self, node, state, src, msg, now):
        return state, []

    def on_timer(self, node, state, name, now):
        return state, []


def test_the_clock_policy_is_what_every_handler_reads():
    assert ActorSystem([("a", Stamp())]).initial_states() == ActorSystem(
        [("a", Stamp())], clock=FixedClock(0)).initial_states()
    m = ActorSystem([("a", Stamp())], clock=FixedClock(7))
    assert m.node(m.initial_states()[0], "a").state == 7
    # The chain's: time moves with the blocks found, each node off by its offset.
    c = MinedClock(interval=10, offsets=(0, -20))
    assert c.reading(2, -20) == 0 and c.readings(1) == [-20, -10, 0, 10]
    assert list(c.initial_offsets(2)) == [(0, 0), (0, -20), (-20, 0), (-20, -20)]
