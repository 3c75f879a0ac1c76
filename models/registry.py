"""The catalogue of models the CLI can build: names, parameters, variants.

Each module in ``models/`` that offers a model to the CLI defines ``ENTRIES``, a list of
``ModelEntry``; ``entries()`` collects them, so adding a model never edits this file.
Parameters are parsed from ``--param name=value`` text and validated here: a bad name, type
or value raises ``BadInput`` with a one-line message (the CLI exits 2 on it).

Models of your own (``entry``): wherever a model name is accepted, so is ``MODULE:FACTORY``
(an importable module), ``path/to/file.py:FACTORY`` (a file, imported under a private module
name like a plugin, ``paxchain.impl.variants.import_file``) and a name that an installed
package offers in the entry-point group ``paxchain.models`` (name = ``module:factory``). The
factory is any callable returning a ``Model``; its keyword parameters are the model's
``--param``s (``factory_entry`` types them), a ``variant`` parameter annotated
``Literal["name", ...]`` its variants. A model built so is named by its spec: its ``name`` is
the spec (a file path relative to the working directory when the file lies below it, else
absolute), its ``params`` the factory's arguments and its ``variant`` the variant, so that
every verdict, trace and ``Reproduce:`` line names it in a form that rebuilds it.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import pkgutil
import re
import types
import typing
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import Any, Literal

from paxchain import models
from paxchain.impl.variants import import_file
from paxchain.models.errors import UserError
from paxchain.models.model import Model

__all__ = ["BadInput", "Param", "ModelEntry", "entries", "entry", "build", "parse_params",
           "int_param", "spec_entry", "factory_entry", "offered", "ENTRY_POINT_GROUP"]


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
    found: dict[str, ModelEntry] = {}
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"paxchain.models.{info.name}")
        for e in getattr(module, "ENTRIES", ()):
            if e.name in found:
                raise RuntimeError(f"two models are named {e.name!r}")
            found[e.name] = e
    return found


def entry(name: str, base: str | os.PathLike[str] | None = None) -> ModelEntry:
    """The model ``name``: a built-in one (``entries()``), a ``MODULE:FACTORY`` or
    ``FILE.py:FACTORY`` spec (``spec_entry``: a relative file is relative to ``base``, default
    the working directory), or one an installed package offers (``offered()``; a built-in
    name wins). Anything else, or a spec that does not resolve, is ``BadInput``."""
    all_entries = entries()
    if name in all_entries:
        return all_entries[name]
    if ":" in name:
        return spec_entry(name, base)
    plugins = offered()
    if name in plugins:
        return _entry_point_entry(plugins[name])
    known = ", ".join(sorted(all_entries) + sorted(plugins))
    hint = "; a file needs its factory" if name.endswith(".py") else ""
    raise BadInput(f"unknown model {name!r} (known: {known}; or MODULE:FACTORY, "
                   f"FILE.py:FACTORY{hint})")


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
        raise BadInput(f"model {e.name} has no variant {variant!r} (known: {known})")
    values = parse_params(e, pairs or {})
    try:
        return e.build(variant=variant, **values)
    except BadInput:
        raise
    except ValueError as exc:
        raise BadInput(f"{e.name}: {exc}") from None


# -- models of your own: MODULE:FACTORY, FILE.py:FACTORY, entry points --------------------------

ENTRY_POINT_GROUP = "paxchain.models"
_IDENTIFIERS = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class _Required:
    """The default of a factory parameter that has none: it must be given."""

    def __repr__(self) -> str:
        return "required"


_REQUIRED = _Required()


def offered() -> dict[str, EntryPoint]:
    """The models installed packages offer: entry-point name -> its ``module:factory``,
    leaving out names that a built-in model has."""
    builtin = entries()
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in builtin}


def _entry_point_entry(ep: EntryPoint) -> ModelEntry:
    try:
        factory = ep.load()
    except Exception as exc:  # a missing module or attribute, or the module failed
        raise BadInput(f"model {ep.name} (entry point {ep.value}): cannot load: "
                       f"{type(exc).__name__}: {exc}") from None
    return factory_entry(ep.name, factory)


def spec_entry(spec: str, base: str | os.PathLike[str] | None = None) -> ModelEntry:
    """The model of ``MODULE:FACTORY`` or ``path/to/file.py:FACTORY`` (a relative path is
    relative to ``base``, default the working directory). The entry's name is the spec with the
    file's path relative to the working directory when it lies below it, else absolute: the
    form in which a printed ``Reproduce:`` line works from the directory it was printed in."""
    where, _, attr = spec.rpartition(":")
    if not where or not _IDENTIFIERS.match(attr):
        raise BadInput(f"model {spec!r}: give MODULE:FACTORY or FILE.py:FACTORY")
    if where.endswith(".py") or "/" in where or os.sep in where:
        path = Path(base if base is not None else ".", where).resolve()
        try:
            module: Any = import_file(path, f"model {spec}: {where}")
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        try:
            name = f"{path.relative_to(Path.cwd().resolve()).as_posix()}:{attr}"
        except ValueError:  # not below the working directory
            name = f"{path}:{attr}"
    else:
        if not _IDENTIFIERS.match(where):
            raise BadInput(f"model {spec!r}: {where!r} is not a module name")
        try:
            module = importlib.import_module(where)
        except Exception as exc:  # not found, or the module failed while importing
            raise BadInput(f"model {spec}: cannot import {where} ({type(exc).__name__}: "
                           f"{exc})") from None
        name = spec
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, _REQUIRED)
        if factory is _REQUIRED:
            raise BadInput(f"model {spec}: {where} has no {attr!r}")
    return factory_entry(name, factory)


def factory_entry(name: str, factory: Any) -> ModelEntry:
    """The entry of a callable returning a ``Model``, named ``name``.

    Each keyword parameter of ``factory`` is a ``--param``, its text typed by the parameter's
    annotation, else by the type of its default: ``int``, ``float`` (finite), ``bool``
    (``true``/``false``/``1``/``0``), ``str``, ``Literal[...]`` (one of the listed values);
    ``X | None`` as ``X``; anything else is passed as the text. A parameter without a default
    must be given. A ``variant`` parameter must be annotated ``Literal["name", ...]`` (or that
    ``| None``): those are the model's variants, and ``--variant`` is passed to it.
    """
    if not callable(factory):
        raise BadInput(f"model {name}: a {type(factory).__name__} is not a factory (a callable "
                       "returning a Model)")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        raise BadInput(f"model {name}: cannot read the factory's parameters") from None
    try:
        hints = typing.get_type_hints(factory.__init__ if isinstance(factory, type) else factory)
    except Exception:  # an annotation that does not evaluate: types come from the defaults
        hints = {}
    params, variants, takes_variant = [], {}, False
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (
                p.kind is p.POSITIONAL_ONLY and p.default is not p.empty):
            continue
        if p.kind is p.POSITIONAL_ONLY:
            raise BadInput(f"model {name}: the factory's parameter {p.name} is positional-only "
                           "without a default")
        hint = hints.get(p.name, p.empty)
        if p.name == "variant":
            choices = _choices(hint)
            if not choices or not all(isinstance(c, str) for c in choices):
                raise BadInput(f"model {name}: the factory's variant parameter must be annotated "
                               "Literal['name', ...] naming its variants")
            variants, takes_variant = {c: "" for c in choices}, True
            continue
        default = _REQUIRED if p.default is p.empty else p.default
        parse, doc = _param_type(hint, default)
        params.append(Param(p.name, parse, default, doc))

    def build(variant: str | None = None, **values: Any) -> Model:
        missing = [k for k, v in values.items() if v is _REQUIRED]
        if missing:
            raise BadInput(f"model {name}: parameter {missing[0]} has no default: give "
                           f"--param {missing[0]}=...")
        kwargs = dict(values, variant=variant) if takes_variant else dict(values)
        try:
            model = factory(**kwargs)
        except (ValueError, MemoryError):  # a ValueError is bad input (``build``)
            raise
        except Exception as exc:
            raise BadInput(f"{name}: the factory raised {type(exc).__name__}: {exc}") from None
        if not isinstance(model, Model):
            raise BadInput(f"model {name}: the factory returned a {type(model).__name__}, not "
                           "a paxchain Model")
        model.name, model.variant = name, variant
        # traces hold no floats: a float parameter is recorded as its text
        model.params = {k: repr(v) if isinstance(v, float) else v
                        for k, v in values.items() if v is not None}
        return model

    summary = (inspect.getdoc(factory) or name).strip().splitlines()[0]
    return ModelEntry(name=name, summary=summary, params=tuple(params), variants=variants,
                      build=build)


def _choices(hint: Any) -> tuple | None:
    """The values of ``Literal[...]`` (or ``Literal[...] | None``), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return _choices(rest[0]) if len(rest) == 1 else None
    return typing.get_args(hint) if typing.get_origin(hint) is Literal else None


def _param_type(hint: Any, default: Any) -> tuple[Callable[[str], Any], str]:
    """A parser for a factory parameter's text, and its type in words (see ``factory_entry``)."""
    choices = _choices(hint)
    if choices:
        return _one_of(choices), "one of " + ", ".join(map(str, choices))
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else None
    if hint is inspect.Parameter.empty:
        hint = type(default) if default is not None and default is not _REQUIRED else str
    if hint is bool:
        return _bool_param, "true or false"
    if hint is int:
        return int_param(), "an integer"
    if hint is float:
        return _float_param, "a number"
    return str, "text"


def _one_of(choices: tuple) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        for c in choices:
            if str(c) == text or (isinstance(c, bool) and str(c).lower() == text.lower()):
                return c
        raise BadInput(f"{text!r} is not one of {', '.join(map(str, choices))}")
    return parse


def _bool_param(text: str) -> bool:
    value = {"1": True, "true": True, "0": False, "false": False}.get(text.strip().lower())
    if value is None:
        raise BadInput(f"{text!r} is not true or false (1 or 0)")
    return value


def _float_param(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadInput(f"{text!r} is not a finite number")
    return value
