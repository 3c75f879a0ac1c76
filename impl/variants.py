"""Seeded variants: a protocol's actors changed from the outside, never by flags in production
code.

A *variant* is a name, one line saying what it changes, and for each role it touches a
*transform*: a function from the production actor of that role (already configured) to the
actor to run instead. A variant is written in any file, against the public actor API:

- a **subclass** that overrides one method (``Catalogue.subclass``): the production actor is
  copied and re-classed, so it keeps its configuration and runs the overriding method;
- a **wrapper** of the actor's handlers (``ActorWrapper``), e.g. one that reorders the effects a
  handler returns (``persist_after_sends``).

A ``Catalogue`` holds one protocol's variants (``paxchain.impl.paxos_variants.PAXOS``,
``paxchain.impl.chain_variants.CHAIN``). Every driver finds variants there by name — the model checker,
the simulator, the real runtime (in each node process) and the gate — so a registered variant
is everywhere at once. User files are loaded as *plugins*: ``load_plugins`` imports them (paths
or module names) and records them in the environment variable ``PAXCHAIN_PLUGINS``, which
every catalogue lookup reads, so child processes (a real run's nodes) see them too. Installed
packages may also offer plugins through the entry-point group ``paxchain.plugins``.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from paxchain.impl.actor import Effect, Handled, Persist

__all__ = ["Variant", "Catalogue", "ActorWrapper", "persist_after_sends", "load_plugins",
           "import_file", "PLUGINS_ENV"]

PLUGINS_ENV = "PAXCHAIN_PLUGINS"
Transform = Callable[[Any], Any]
Cluster = Mapping[str, tuple[Any, str]]  # node id -> (actor, role)


@dataclass(frozen=True)
class Variant:
    """A named change of some roles' actors: ``transforms[role](actor) -> actor``."""

    name: str
    doc: str
    transforms: Mapping[str, Transform]

    def apply(self, cluster: Cluster) -> dict[str, tuple[Any, str]]:
        """``cluster`` with the actor of every role this variant touches transformed."""
        return {node: (self.transforms[role](actor) if role in self.transforms else actor,
                       role)
                for node, (actor, role) in cluster.items()}


class Catalogue(Mapping[str, Variant]):
    """The variants of one protocol, by name (a read-only mapping; ``register`` adds)."""

    def __init__(self, protocol: str, roles: Iterable[str]) -> None:
        self.protocol = protocol
        self.roles = frozenset(roles)
        self._variants: dict[str, Variant] = {}

    # -- registering
    def register(self, name: str, doc: str, **transforms: Transform) -> Variant:
        """Add variant ``name`` that applies ``transforms`` (role=function) to the actors."""
        if not name or not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise ValueError(f"a variant name is a word of letters, digits and _, not {name!r}")
        unknown = set(transforms) - self.roles
        if unknown or not transforms:
            raise ValueError(f"variant {name}: roles must be some of {sorted(self.roles)}")
        if name in self._variants:
            raise ValueError(f"{self.protocol} already has a variant named {name!r}")
        v = self._variants[name] = Variant(name, " ".join(doc.split()), dict(transforms))
        return v

    def subclass(self, name: str, doc: str, role: str) -> Callable[[type], type]:
        """Class decorator: register a subclass of ``role``'s production actor class as the
        variant ``name``; the configured production actor is copied and re-classed."""
        def decorate(cls: type) -> type:
            def transform(actor: Any) -> Any:
                if not isinstance(actor, cls.__mro__[1]):
                    raise TypeError(f"variant {name}: {cls.__name__} does not extend "
                                    f"{type(actor).__name__}")
                new = copy.copy(actor)
                new.__class__ = cls
                return new
            self.register(name, doc, **{role: transform})
            return cls
        return decorate

    def wrapper(self, name: str, doc: str, role: str) -> Callable[[type], type]:
        """Class decorator: register an ``ActorWrapper`` subclass, built around ``role``'s
        production actor, as the variant ``name``."""
        def decorate(cls: type) -> type:
            self.register(name, doc, **{role: cls})
            return cls
        return decorate

    # -- looking up (plugins named in the environment are loaded first)
    def _table(self) -> dict[str, Variant]:
        load_plugins_from_env()
        return self._variants

    def __getitem__(self, name: str) -> Variant:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._table()))

    def __len__(self) -> int:
        return len(self._table())

    def names(self) -> dict[str, str]:
        """Variant name -> its one-line description, sorted by name."""
        return {n: self[n].doc for n in self}

    @property
    def docs(self) -> Mapping[str, str]:
        """A live view: variant name -> description (what a model's catalogue entry lists)."""
        return _Docs(self)

    def check(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` as a tuple, or ``ValueError`` (one line) for a name not registered."""
        out = tuple(names)
        table = self._table()
        for n in out:
            if n not in table:
                known = ", ".join(sorted(table)) or "none"
                raise ValueError(f"{self.protocol} has no variant {n!r} (known: {known})")
        return out

    def apply(self, names: str | Iterable[str] | None, cluster: Cluster
              ) -> dict[str, tuple[Any, str]]:
        """``cluster`` with the named variants applied in order (``None``: unchanged)."""
        if names is None:
            return dict(cluster)
        if isinstance(names, str):
            names = (names,)
        out = dict(cluster)
        for n in self.check(names):
            out = self._variants[n].apply(out)
        return out


class _Docs(Mapping[str, str]):
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def __getitem__(self, name: str) -> str:
        return self.catalogue[name].doc

    def __iter__(self) -> Iterator[str]:
        return iter(self.catalogue)

    def __len__(self) -> int:
        return len(self.catalogue)


class ActorWrapper:
    """An actor that delegates every handler to ``inner``; override the one to change.

    Attributes not defined here (a proposer's ``ballot``, ``role``, ...) are the inner
    actor's, so code that reads an actor's configuration reads it through the wrapper.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, attr: str) -> Any:
        if "inner" not in self.__dict__:  # e.g. during copy.copy, before __init__ ran
            raise AttributeError(attr)
        return getattr(self.__dict__["inner"], attr)

    def on_start(self, node: str, durable: Any, now: float) -> Handled:
        handled: Handled = self.inner.on_start(node, durable, now)
        return handled

    def on_message(self, node: str, state: Any, src: str, msg: Any, now: float) -> Handled:
        handled: Handled = self.inner.on_message(node, state, src, msg, now)
        return handled

    def on_timer(self, node: str, state: Any, name: str, now: float) -> Handled:
        handled: Handled = self.inner.on_timer(node, state, name, now)
        return handled


def persist_after_sends(effects: list[Effect]) -> list[Effect]:
    """``effects`` with every ``Persist`` moved after the other effects (the write-ahead rule
    broken: a reply or an output leaves before the write that it reports)."""
    return ([e for e in effects if not isinstance(e, Persist)]
            + [e for e in effects if isinstance(e, Persist)])


# -- plugins ------------------------------------------------------------------------------------

_loaded: set[str] = set()


def import_file(path: Path, what: str) -> ModuleType:
    """The Python file ``path`` as a module, imported once per process under a private name
    (``paxchain_plugin_<hash of its resolved path>``): plugins and model files (``paxchain
    check FILE.py:FACTORY``) share it, so a file named both ways is one module. ``ValueError``
    (one line, starting with ``what``): no such file, not a Python file, or its import failed."""
    path = path.resolve()
    name = f"paxchain_plugin_{abs(hash(str(path))):x}"
    if name in sys.modules:
        return sys.modules[name]
    if not path.is_file():
        raise ValueError(f"{what}: no such file")
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"{what}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ValueError(f"{what}: {type(exc).__name__}: {exc}") from None
    return module


def _import_one(spec: str, base: str | None) -> None:
    path = Path(base, spec) if base and not os.path.isabs(spec) else Path(spec)
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        key = str(path.resolve())
        if key not in _loaded:
            import_file(path, f"plugin {spec}")
            _loaded.add(key)
        return
    if spec in _loaded:
        return
    _loaded.add(spec)
    try:
        importlib.import_module(spec)
    except ImportError as exc:
        _loaded.discard(spec)
        raise ValueError(f"plugin {spec}: cannot import ({exc})") from None


def load_plugins(specs: Iterable[str], base: str | None = None) -> None:
    """Import each plugin (a ``.py`` path, relative to ``base`` if given, or a module name),
    once, and add it to ``PAXCHAIN_PLUGINS`` so that child processes load it too.

    A plugin registers variants (or models) when imported. ``ValueError``: a file or module
    that is missing or fails to import, in one line.
    """
    known = [p for p in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]
    for spec in specs:
        _import_one(spec, base)
        path = Path(base, spec) if base and not os.path.isabs(spec) else Path(spec)
        entry = str(path.resolve()) if spec.endswith(".py") or "/" in spec else spec
        if entry not in known:
            known.append(entry)
    if known:
        os.environ[PLUGINS_ENV] = os.pathsep.join(known)


_env_seen: str | None = None
_entry_points_loaded = False


def load_plugins_from_env() -> None:
    """Load the plugins named in ``PAXCHAIN_PLUGINS`` and the ``paxchain.plugins`` entry
    points (each once)."""
    global _env_seen, _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for ep in entry_points(group="paxchain.plugins"):
            if ep.value not in _loaded:
                _loaded.add(ep.value)
                ep.load()
    value = os.environ.get(PLUGINS_ENV, "")
    if value and value != _env_seen:
        _env_seen = value
        for spec in value.split(os.pathsep):
            if spec:
                _import_one(spec, None)
