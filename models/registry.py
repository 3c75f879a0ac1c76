"""The catalogue of models the CLI can build: names, parameters, variants.

Each module in ``models/`` that offers a model to the CLI defines ``ENTRIES``, a list of
``ModelEntry``; ``entries()`` collects them, so adding a model never edits this file.
Parameters are parsed from ``--param name=value`` text and validated here: a bad name, type
or value raises ``BadInput`` with a one-line message (the CLI exits 2 on it).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from paxchain.models.errors import UserError
from paxchain.models.model import Model

__all__ = ["BadInput", "Param", "ModelEntry", "entries", "entry", "build", "parse_params",
           "int_param"]


class BadInput(UserError, ValueError):
    """User input that names no model, variant or parameter, or gives a bad value."""


def int_param(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """A parser for an integer parameter within ``lo..hi``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise BadInput(f"{text!r} is not an integer") from None
        if lo is not None and value < lo:
            raise BadInput(f"{value} is below the minimum {lo}")
        if hi is not None and value > hi:
            raise BadInput(f"{value} is above the maximum {hi}")
        return value
    return parse


@dataclass(frozen=True)
class Param:
    name: str
    parse: Callable[[str], Any]
    default: Any
    doc: str


@dataclass(frozen=True)
class ModelEntry:
    name: str
    summary: str
    params: tuple[Param, ...]
    variants: Mapping[str, str]
    build: Callable[..., Model]  # build(variant=..., **params)
    # Small bounds at which the tests run every variant through every reduction, on and off
    # (tests/test_reductions.py): together they must let every shipped variant show its bug.
    reduction_bounds: tuple[Mapping[str, Any], ...] = ()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params)
        raise BadInput(f"model {self.name} has no parameter {name!r} (known: {known})")


def entries() -> dict[str, ModelEntry]:
    """Every model entry found in the modules of the ``models`` package."""
    from paxchain import models

    found: dict[str, ModelEntry] = {}
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"paxchain.models.{info.name}")
        for e in getattr(module, "ENTRIES", ()):
            if e.name in found:
                raise RuntimeError(f"two models are named {e.name!r}")
            found[e.name] = e
    return found


def entry(name: str) -> ModelEntry:
    all_entries = entries()
    if name not in all_entries:
        raise BadInput(f"unknown model {name!r} (known: {', '.join(sorted(all_entries))})")
    return all_entries[name]


def parse_params(e: ModelEntry, pairs: Mapping[str, str]) -> dict[str, Any]:
    """Typed parameter values from their text, defaults filled in."""
    values = {p.name: p.default for p in e.params}
    for name, text in pairs.items():
        p = e.param(name)
        try:
            values[name] = p.parse(text) if isinstance(text, str) else p.parse(str(text))
        except BadInput as exc:
            raise BadInput(f"parameter {name}: {exc}") from None
    return values


def build(name: str, pairs: Mapping[str, str] | None = None, variant: str | None = None) -> Model:
    """The model ``name`` with parameters given as text, e.g. from ``--param k=v``."""
    e = entry(name)
    if variant is not None and variant not in e.variants:
        known = ", ".join(sorted(e.variants)) or "none"
        raise BadInput(f"model {name} has no variant {variant!r} (known: {known})")
    values = parse_params(e, pairs or {})
    try:
        return e.build(variant=variant, **values)
    except BadInput:
        raise
    except ValueError as exc:
        raise BadInput(f"{name}: {exc}") from None
