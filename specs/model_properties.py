"""Which properties a model is checked against: each built-in model class paired with its spec.

A model (``paxchain.models``) knows nothing of the properties checked on it, which are a layer
above; ``SPECS`` pairs each built-in model class with the spec module whose
``properties(model)`` lists the properties of one instance, bound to it. The engines, the trace
reader and the CLI ask ``properties_of(model)``. A spec module is imported when a model of its
class is first asked about, so ``import paxchain.checker`` loads no protocol (the three models
and their specs cost about 75 ms to import) and checking one model loads one spec.

A model class of one's own keeps ``Model.properties()``: the nearest class in the model's method
resolution order that is either paired here or defines ``properties`` itself decides, so a user's
model (or a user's subclass of a built-in model) that defines ``properties()`` is checked against
those, and a subclass that does not inherits its base's spec.
"""

from __future__ import annotations

import importlib

from paxchain.models.model import Model
from paxchain.models.properties import Property

__all__ = ["SPECS", "properties_of"]

# model class, as ``module.QualifiedName`` -> the spec module that lists its properties
SPECS: dict[str, str] = {
    "paxchain.models.lamport_paxos.LamportPaxos": "paxchain.specs.lamport_paxos",
    "paxchain.models.paxos_system.PaxosSystem": "paxchain.specs.paxos_system",
    "paxchain.models.chain_system.ChainSystem": "paxchain.specs.chain",
}


def properties_of(model: Model) -> list[Property]:
    """The named properties to check on ``model``, bound to it (see the module docstring)."""
    for cls in type(model).__mro__:
        spec = SPECS.get(f"{cls.__module__}.{cls.__qualname__}")
        if spec is not None:
            return list(importlib.import_module(spec).properties(model))
        if "properties" in vars(cls):
            break
    return list(model.properties())
