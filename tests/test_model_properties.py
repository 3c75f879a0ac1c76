"""The pairing of models with their specs' properties (specs/model_properties.py): the engines
ask it, a built-in model gets its spec's properties bound to the instance, a model of one's own
keeps the ``properties()`` it defines."""

from __future__ import annotations

import importlib

from paxchain.checker import check
from paxchain.models.lamport_paxos import LamportPaxos
from paxchain.models.model import Label, Model
from paxchain.models.paxos_system import PaxosSystem
from paxchain.models.properties import invariant
from paxchain.specs import lamport_paxos
from paxchain.specs.model_properties import SPECS, properties_of


def test_every_pairing_names_a_model_class_and_a_spec_with_properties():
    for cls_path, spec in SPECS.items():
        module, _, name = cls_path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Model) and "properties" not in vars(cls), cls_path
        assert callable(importlib.import_module(spec).properties), spec


def test_a_built_in_model_gets_its_spec_bound_to_the_instance():
    model = LamportPaxos(3, 2, 1)
    props = properties_of(model)
    assert [p.name for p in props] == [p.name for p in lamport_paxos.PROPERTIES]
    assert list(model.properties()) == []  # the model itself names none
    assert all(p.check.args == (model,) for p in props)


def test_a_spec_may_choose_by_instance():
    """paxos-system lists quorum_suffices only with 3 or more acceptors, and the history
    properties only with a history."""
    names = {p.name for p in properties_of(PaxosSystem(acceptors=3))}
    assert {"quorum_suffices", "refinement"} <= names
    names = {p.name for p in properties_of(PaxosSystem(acceptors=2, history=False))}
    assert "quorum_suffices" not in names and "refinement" not in names


@invariant()
def small(m, s) -> bool:
    """The counter stays below 3."""
    return s < 3


class Counter(Model):
    def initial_states(self):
        return [0]

    def successors(self, state):
        return [(Label("Inc"), state + 1)] if state < 5 else []

    def properties(self):
        return [small.bind(self)]


class OwnLamport(LamportPaxos):
    def properties(self):
        return [small.bind(self)]


class PlainLamport(LamportPaxos):
    pass


def test_a_model_of_ones_own_keeps_its_properties():
    assert [p.name for p in properties_of(Counter())] == ["small"]
    assert [p.name for p in properties_of(OwnLamport(3, 2, 1))] == ["small"]
    assert [p.name for p in properties_of(PlainLamport(3, 2, 1))] == \
        [p.name for p in lamport_paxos.PROPERTIES]
    result = check(Counter())
    assert result.get("small").verdict == "violated"
    assert len(result.get("small").trace.steps) - 1 == 3
