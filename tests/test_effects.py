"""The one effect interpreter (``paxchain.impl.effects``) that the model, the simulator and
the UDP runtime share."""

from __future__ import annotations

import pytest

from paxchain.impl.actor import CancelTimer, Output, Persist, Send, SetTimer
from paxchain.impl.effects import NOTHING, Folded, apply_effects, crash_cuts, units
from paxchain.impl.simulator import Crash, SimConfig, simulate

EFFECTS = [Persist("d1"), Send("b", "m1"), SetTimer("t", 2.0), Output("o"), Send("c", "m2"),
           CancelTimer("t"), Persist("d2")]


class Log:
    """An ``EffectTarget`` that writes down each call."""

    def __init__(self):
        self.calls = []

    def persist(self, data):
        self.calls.append(("persist", data))

    def send(self, dst, msg):
        self.calls.append(("send", dst, msg))

    def set_timer(self, name, delay):
        self.calls.append(("set_timer", name, delay))

    def cancel_timer(self, name):
        self.calls.append(("cancel_timer", name))

    def output(self, value):
        self.calls.append(("output", value))


def test_effects_are_carried_out_in_list_order():
    log = Log()
    apply_effects("a", EFFECTS, log)
    assert log.calls == [("persist", "d1"), ("send", "b", "m1"), ("set_timer", "t", 2.0),
                         ("output", "o"), ("send", "c", "m2"), ("cancel_timer", "t"),
                         ("persist", "d2")]


def test_a_crash_point_is_the_prefix_before_it():
    log = Log()
    apply_effects("a", EFFECTS, log, upto=2)
    assert log.calls == [("persist", "d1"), ("send", "b", "m1")]
    apply_effects("a", EFFECTS, Log(), upto=0)  # nothing at all: no error either


def test_an_unknown_effect_names_the_node():
    with pytest.raises(TypeError, match="a: unknown effect 'oops'"):
        apply_effects("a", [Send("b", 1), "oops"], Log())


def test_folded_records_what_the_model_keeps():
    f = Folded(durable="old", timers=("u",))
    apply_effects("a", EFFECTS, f)
    assert (f.durable, f.timers, f.sends, f.outputs) == (
        "d2", {"u"}, [("b", "m1"), ("c", "m2")], ["o"])
    assert Folded().durable is NOTHING  # "persisted nothing" is not None


def test_units_cut_around_each_persist_and_output():
    assert units(EFFECTS) == [[Persist("d1")], [Send("b", "m1"), SetTimer("t", 2.0)],
                              [Output("o")], [Send("c", "m2"), CancelTimer("t")],
                              [Persist("d2")]]
    assert units([]) == []


class Once:
    """Persists, then sends to ``b``, when it starts; ``b`` outputs what it receives."""

    def on_start(self, node, durable, now):
        if node == "a":
            return "up", [Persist("x"), Send("b", "hi"), SetTimer("t", 1.0)]
        return "up", []

    def on_message(self, node, state, src, msg, now):
        return state, [Output(msg)]

    def on_timer(self, node, state, name, now):
        return state, [Output(("timer", name))]


def test_the_simulator_carries_out_effects_through_the_same_interpreter():
    r = simulate({"a": Once(), "b": Once()}, SimConfig(seed=1, crashes=(Crash("a", 5.0),)))
    assert r.durable["a"] == "x" and [v for _, v in r.outputs["b"]] == ["hi"]
    assert [v for _, v in r.outputs["a"]] == [("timer", "t")]


def test_a_crash_cuts_after_each_unit_but_the_last_and_before_all_of_a_delivery():
    assert [u for u, _ in crash_cuts(EFFECTS, consumes=False)] == [1, 2, 3, 4]
    assert crash_cuts(EFFECTS, consumes=True)[0] == (0, [])
    assert crash_cuts(EFFECTS, consumes=False)[1] == (2, EFFECTS[:3])  # Persist | Send Set
    assert crash_cuts([Send("b", 1)], consumes=False) == []  # one unit: only before or after
