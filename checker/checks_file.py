"""The checks a CI gate runs: read from ``paxchain.toml`` or ``[tool.paxchain]`` in
``pyproject.toml`` (the only definition of a gate), and validated before anything runs.

Without ``--checks FILE`` the file is found like pytest finds its configuration: walking up
from the working directory to the filesystem root, the first directory that holds
``paxchain.toml``, or a ``pyproject.toml`` with a ``[tool.paxchain]`` table, wins (in one
directory ``paxchain.toml`` beats ``pyproject.toml``). Finding neither is bad input.

A checks file is TOML with one ``[[check]]`` table per check (``[[tool.paxchain.check]]`` in
``pyproject.toml``), optionally after a top-level list of plugins to load first — files
(relative to the checks file) or module names that register bug variants
(``paxchain.impl.variants.load_plugins``)::

    plugins = ["my_bugs.py", "mypackage.paxos_bugs"]

    [[check]]
    name = "paxos-3x2-b1"            # unique; names the JUnit test cases and artifact folders
    model = "lamport-paxos"          # a model of `paxchain list`, or your own: MODULE:FACTORY
                                     # or FILE.py:FACTORY (relative to this file)
    variant = "small_quorums"        # optional seeded bug variant
    params = { acceptors = 3, values = 2, max_ballot = 1 }   # text or integers
    engine = "explicit"              # "explicit" (default) or "bmc" (where the model has one)
    strategy = "bfs"                 # or "dfs" (explicit engine)
    max_depth = 20                   # bounds: max_depth, max_states, time_limit (seconds)
    symmetry = true
    properties = ["agreement"]       # default: every property of the model
    sometimes = ["value_chosen"]     # goals that must be reached (properties of kind sometimes)
    expect = "violated"              # "holds" (default) or "violated" ...
    violates = "agreement"           # ... naming the property the seeded bug must break
    incomplete_fails = true          # default true: an incomplete search fails the gate
    fail_on_unfired = false          # true: an action that never fired fails the check
    deadlock = false                 # true: a state without successors is a violation
    slow = false                     # true: run only with `paxchain check --slow`

Command-line bounds (``--max-depth`` ...) apply to checks that set none of their own; a check
with ``expect = "holds"`` searches past violations so every property gets its own verdict.
A check must check something: ``properties = []`` with no ``sometimes`` goals and no
``deadlock`` check is refused (it would hold vacuously). Bounds are finite and non-negative
(``time_limit = nan`` or ``inf`` is refused).
Engines ``prove`` and ``simulate`` are recognised but rejected: they do not run from a checks
file yet (``paxchain prove``, ``paxchain simulate``). ``bmc`` needs ``max_depth`` and a model
with ``specs/<model>_bmc.py``; it never makes an invariant hold (at best incomplete).

Contract of ``load``: every check it returns names an existing model, variant, parameters and
properties, with values of the right types, and an engine that can run it; its plugins are
loaded. Anything else — malformed TOML included, however deeply nested or however long its
numbers — raises ``UserError("FILE:LINE: message")``, one line, with the line of the offending
key (or of the check's table); no check has run yet when that happens.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paxchain.checker.result import HOLDS, VIOLATED, Strategy, Verdict
from paxchain.checker.bmc import bmc_properties
from paxchain.checker.cli import load_plugins
from paxchain.models.errors import UserError
from paxchain.models.properties import SOMETIMES
from paxchain.models.registry import BadInput, entry, parse_params
from paxchain.specs.model_properties import properties_of

__all__ = ["CheckSpec", "ChecksSource", "load", "find_source", "parse_checks", "ENGINES",
           "RUNNABLE_ENGINES", "CHECKS_FILES"]

ENGINES = ("explicit", "bmc", "prove", "simulate")
RUNNABLE_ENGINES = ("explicit", "bmc")
_KEYS = {
    "name": "str", "model": "str", "variant": "str", "params": "table", "engine": "str",
    "strategy": "str", "max_depth": "int", "max_states": "int", "time_limit": "number",
    "symmetry": "bool", "properties": "list", "sometimes": "list", "expect": "str",
    "violates": "str", "incomplete_fails": "bool", "fail_on_unfired": "bool", "deadlock": "bool",
    "slow": "bool",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class CheckSpec:
    """One validated check: a model instance, how to search it, and what it must give."""

    name: str
    model: str
    variant: str | None = None
    params: tuple[tuple[str, Any], ...] = ()     # as written (text or int), in file order
    engine: str = "explicit"
    strategy: Strategy = Strategy.BFS
    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    symmetry: bool = False
    properties: tuple[str, ...] | None = None    # None: every property of the model
    sometimes: tuple[str, ...] = ()
    expect: Verdict = HOLDS                      # HOLDS or VIOLATED
    violates: str | None = None
    incomplete_fails: bool = True
    fail_on_unfired: bool = False
    deadlock: bool = False
    slow: bool = False                           # run only when the gate is asked for --slow
    line: int = 0

    def param_text(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.params}

    def checked(self) -> tuple[str, ...] | None:
        """The property names the search is restricted to (None: all)."""
        if self.expect == VIOLATED:
            return (self.violates,)
        if self.properties is None:
            return None  # every property, sometimes goals included
        return tuple(dict.fromkeys(self.properties + self.sometimes))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "variant": self.variant,
                "params": dict(self.params), "engine": self.engine, "strategy": self.strategy,
                "max_depth": self.max_depth, "max_states": self.max_states,
                "time_limit": self.time_limit, "symmetry": self.symmetry,
                "properties": list(self.properties) if self.properties is not None else None,
                "sometimes": list(self.sometimes), "expect": self.expect,
                "violates": self.violates, "incomplete_fails": self.incomplete_fails,
                "fail_on_unfired": self.fail_on_unfired, "deadlock": self.deadlock,
                "slow": self.slow}


@dataclass(frozen=True)
class ChecksSource:
    """The checks file the checks came from, and the checks."""

    origin: str
    checks: tuple[CheckSpec, ...] = field(default_factory=tuple)


CHECKS_FILES = ("paxchain.toml", "pyproject.toml")  # what find_source looks for, in order


def find_source(explicit: str | None, cwd: str | os.PathLike[str] = ".") -> Path:
    """The checks file to read: ``explicit``, else the first directory from ``cwd`` up to the
    filesystem root with ``paxchain.toml`` or a ``pyproject.toml`` that has
    ``[tool.paxchain]`` (``paxchain.toml`` first). Found in ``cwd`` itself it is
    ``cwd/<name>``; further up, an absolute path. None found: ``UserError``."""
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise UserError(f"{explicit}: no such checks file")
        return p
    try:
        start = Path(cwd).resolve()
    except OSError as exc:  # the working directory was removed, or cannot be read
        raise UserError(f"no checks file: cannot read the working directory ({exc.strerror})"
                        ) from None
    for folder in (start, *start.parents):
        for name in CHECKS_FILES:
            found = folder / name
            if _is_file(found) and (name == "paxchain.toml" or _has_tool_paxchain(found)):
                return Path(cwd) / name if folder == start else found
    raise UserError(f"no checks file: neither {CHECKS_FILES[0]} nor {CHECKS_FILES[1]} with "
                    f"[tool.paxchain] in {start} or any directory above it (name one with "
                    "--checks FILE, or a MODEL to check)")


def _is_file(path: Path) -> bool:
    """``path.is_file()``, with a folder that cannot be searched counting as not having it."""
    try:
        return path.is_file()
    except OSError:
        return False


def _has_tool_paxchain(pyproject: Path) -> bool:
    """Whether ``pyproject`` holds a ``[tool.paxchain]`` table. A file that is not valid TOML
    counts when its text opens such a table (``load`` then says where it is malformed), and
    otherwise is some other tool's to judge."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return re.search(r"^\s*\[+\s*tool\s*\.\s*paxchain\b", text, re.M) is not None
    return isinstance(data.get("tool"), dict) and "paxchain" in data["tool"]


def load(explicit: str | None = None, cwd: str | os.PathLike[str] = ".") -> ChecksSource:
    """The validated checks of the file ``find_source`` picks."""
    path = find_source(explicit, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    return ChecksSource(str(path), parse_checks(text, str(path), path.name == "pyproject.toml"))


# -- parsing ---------------------------------------------------------------------------------

class _Lines:
    """Line numbers of ``[[check]]`` tables and their keys, found by scanning the text
    (``tomllib`` keeps none)."""

    def __init__(self, text: str, prefix: str) -> None:
        self.lines = text.splitlines()
        head = re.compile(r"^\s*\[\[\s*" + re.escape(prefix) + r"check\s*\]\]")
        self.starts = [i + 1 for i, ln in enumerate(self.lines) if head.match(ln)]
        any_array = re.compile(r"^\s*\[\[")
        self.ends = []
        for s in self.starts:
            end = len(self.lines)
            for j in range(s, len(self.lines)):
                if any_array.match(self.lines[j]):
                    end = j
                    break
            self.ends.append(end)

    def of(self, index: int, *keys: str) -> int:
        """The line of ``keys[-1]`` inside check ``index`` (after ``keys[0]``'s line when
        nested), else the check's header line."""
        if index >= len(self.starts):
            return 1
        lo, hi = self.starts[index], self.ends[index]
        for key in keys:
            pat = re.compile(r"(^|[\s{,.\[])[\"']?" + re.escape(key) + r"[\"']?\s*(=|\])")
            for n in range(lo, hi + 1):
                if n - 1 < len(self.lines) and pat.search(_strip_comment(self.lines[n - 1])):
                    lo = n
                    break
            else:
                return self.starts[index]
        return lo


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0] if '"' not in line and "'" not in line else line


def parse_checks(text: str, origin: str, pyproject: bool = False) -> tuple[CheckSpec, ...]:
    """Validate the checks in ``text`` (the contents of ``origin``); see the module docstring."""
    data = _toml(text, origin)
    prefix = "tool.paxchain." if pyproject else ""
    if pyproject:
        tool = data.get("tool", {})
        data = tool.get("paxchain", {}) if isinstance(tool, dict) else None
        if not isinstance(data, dict):
            raise UserError(f"{origin}:1: [tool.paxchain] must be a table")
    lines = _Lines(text, prefix)
    for key in data:
        if key not in ("check", "plugins"):
            raise UserError(f"{origin}:{_top_line(text, key)}: unknown top-level key {key!r} "
                            f"(a checks file holds plugins = [...] and [[{prefix}check]] tables)")
    if "plugins" in data:
        _load_plugins(data["plugins"], origin, _top_line(text, "plugins"))
    raw = data.get("check")
    if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):
        raise UserError(f"{origin}:1: no checks: add [[{prefix}check]] tables")
    # a model FILE.py:FACTORY is relative to the checks file, like its plugins
    base = str(Path(origin).resolve().parent) if os.path.exists(origin) else None
    checks, names = [], {}
    for i, c in enumerate(raw):
        spec = _one(c, i, origin, lines, base)
        if spec.name in names:
            raise UserError(f"{origin}:{lines.of(i, 'name')}: check name {spec.name!r} is used "
                            f"twice (first on line {names[spec.name]})")
        names[spec.name] = spec.line
        checks.append(spec)
    return tuple(checks)


def _toml(text: str, origin: str) -> dict:
    """``tomllib.loads``, with every way it can fail as one ``UserError`` line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise UserError(f"{origin}:{m.group(1) if m else 1}: invalid TOML: {msg}") from None
    except RecursionError:
        raise UserError(f"{origin}:1: invalid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        long = re.search(r"\d{4000,}", text)
        line = text.count("\n", 0, long.start()) + 1 if long else 1
        why = "a number has too many digits" if long else " ".join(str(exc).split())
        raise UserError(f"{origin}:{line}: invalid TOML: {why}") from None


def _load_plugins(specs: Any, origin: str, line: int) -> None:
    """Load the checks file's ``plugins`` (paths relative to the file) before its checks are
    validated, so that the variants they register can be named."""
    if not isinstance(specs, list) or not all(isinstance(x, str) and x for x in specs):
        raise UserError(f"{origin}:{line}: plugins must be a list of file paths or module "
                        f"names, not {_toml_type(specs)}")
    base = str(Path(origin).resolve().parent) if os.path.exists(origin) else None
    try:
        load_plugins(specs, base, "plugins")
    except UserError as exc:
        raise UserError(f"{origin}:{line}: {exc}") from None


def _top_line(text: str, key: str) -> int:
    pat = re.compile(r"^\s*\[?\s*[\"']?" + re.escape(key) + r"\b")
    for n, ln in enumerate(text.splitlines(), start=1):
        if pat.match(ln):
            return n
    return 1


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list) and all(isinstance(x, str) for x in value)
    return isinstance(value, dict)


_TYPE_TEXT = {"str": "a string", "bool": "true or false", "int": "an integer",
              "number": "a number", "list": "a list of strings", "table": "a table"}


def _one(c: dict, i: int, origin: str, lines: _Lines, base: str | None) -> CheckSpec:
    def fail(msg: str, *keys: str) -> UserError:
        label = f"check {c['name']!r}" if isinstance(c.get("name"), str) else f"check {i + 1}"
        return UserError(f"{origin}:{lines.of(i, *keys)}: {label}: {msg}")

    for key, value in c.items():
        if key not in _KEYS:
            raise fail(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})", key)
        if not _type_ok(value, _KEYS[key]):
            raise fail(f"{key} must be {_TYPE_TEXT[_KEYS[key]]}, not {_toml_type(value)}", key)
    for key in ("name", "model"):
        if key not in c:
            raise fail(f"missing required key {key!r}")
    if not _NAME.match(c["name"]):
        raise fail(f"name {c['name']!r} must be letters, digits and _.+- only", "name")
    try:  # a built-in or installed model's name, MODULE:FACTORY or FILE.py:FACTORY
        e = entry(c["model"], base)
    except BadInput as exc:
        raise fail(str(exc), "model") from None
    variant = c.get("variant")
    if variant is not None and variant not in e.variants:
        known = ", ".join(sorted(e.variants)) or "none"
        raise fail(f"model {e.name} has no variant {variant!r} (known: {known})", "variant")
    params = c.get("params", {})
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise fail(f"parameter {k} must be text or an integer, not {_toml_type(v)}",
                       "params", k)
        try:
            parse_params(e, {k: str(v)})
        except BadInput as exc:
            raise fail(str(exc), "params", k) from None
    try:
        model = e.build(variant=variant, **parse_params(e, {k: str(v) for k, v in params.items()}))
    except (BadInput, ValueError) as exc:
        raise fail(f"{e.name}: {exc}", "params") from None
    props = {p.name: p.kind for p in properties_of(model)}
    for key in ("properties", "sometimes"):
        for name in c.get(key, ()):
            if name not in props:
                raise fail(f"{e.name} has no property {name!r} (known: "
                           f"{', '.join(sorted(props))})", key)
            if key == "sometimes" and props[name] != SOMETIMES:
                raise fail(f"{name!r} is a {props[name]} property, not a sometimes goal "
                           "(list it under properties)", key)
    expect = c.get("expect", HOLDS)
    if expect not in (HOLDS, VIOLATED):
        raise fail(f"expect must be \"holds\" or \"violated\", not {expect!r}", "expect")
    expect = Verdict(expect)
    violates = c.get("violates")
    if expect == VIOLATED:
        if violates is None:
            raise fail("expect = \"violated\" needs violates = \"<property>\"", "expect")
        if violates not in props:
            raise fail(f"{e.name} has no property {violates!r} (known: "
                       f"{', '.join(sorted(props))})", "violates")
    elif violates is not None:
        raise fail("violates goes with expect = \"violated\"", "violates")
    engine = c.get("engine", "explicit")
    if engine not in ENGINES:
        raise fail(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})", "engine")
    if engine not in RUNNABLE_ENGINES:
        raise fail(f"engine {engine!r} cannot run from a checks file yet (runnable: "
                   f"{', '.join(RUNNABLE_ENGINES)}; use `paxchain {engine}` directly)", "engine")
    strategy = c.get("strategy", Strategy.BFS)
    if strategy not in (Strategy.BFS, Strategy.DFS):
        raise fail(f"strategy must be \"bfs\" or \"dfs\", not {strategy!r}", "strategy")
    strategy = Strategy(strategy)
    for key in ("max_depth", "max_states", "time_limit"):
        try:
            finite = key not in c or math.isfinite(c[key])
        except OverflowError:  # an integer beyond any float (TOML allows them)
            finite = False
        if not finite:
            raise fail(f"{key} must be a finite number of reasonable size", key)
        if key in c and c[key] < 0:
            raise fail(f"{key} must not be negative", key)
    if c.get("properties") == [] and not c.get("sometimes") and not c.get("deadlock") \
            and expect == HOLDS:
        raise fail("nothing to check: properties = [] with no sometimes goals (and no deadlock "
                   "check) would hold vacuously", "properties")
    if engine == "bmc":
        _check_bmc(c, fail, e.name, props)
    if c.get("symmetry") and not model.has_symmetry:
        raise fail(f"{model.describe()} has no symmetry to reduce by", "symmetry")
    return CheckSpec(
        name=c["name"], model=e.name, variant=variant, params=tuple(params.items()),
        engine=engine, strategy=strategy, max_depth=c.get("max_depth"),
        max_states=c.get("max_states"), time_limit=c.get("time_limit"),
        symmetry=c.get("symmetry", False),
        properties=tuple(c["properties"]) if "properties" in c else None,
        sometimes=tuple(c.get("sometimes", ())), expect=expect, violates=violates,
        incomplete_fails=c.get("incomplete_fails", True),
        fail_on_unfired=c.get("fail_on_unfired", False), deadlock=c.get("deadlock", False),
        slow=c.get("slow", False), line=lines.of(i))


def _check_bmc(c: dict, fail, model_name: str, props: dict) -> None:
    supported = bmc_properties(model_name)
    if supported is None:
        raise fail(f"engine \"bmc\" has no encoding of {model_name}", "engine")
    if "max_depth" not in c:
        raise fail("engine \"bmc\" needs max_depth (the unrolling depth)", "engine")
    for key in ("max_states", "symmetry", "strategy", "deadlock"):
        if key in c:
            raise fail(f"{key} does not apply to engine \"bmc\"", key)
    if c.get("expect") == VIOLATED:
        wanted = [("violates", c["violates"])]
    else:
        wanted = [(k, n) for k in ("properties", "sometimes") for n in c.get(k, [])]
    if not wanted:
        raise fail("engine \"bmc\" needs properties = [...] or sometimes = [...] (it encodes: "
                   f"{', '.join(supported)})", "engine")
    for key, name in wanted:
        if name not in supported:
            raise fail(f"engine \"bmc\" cannot check {name!r} (it encodes: "
                       f"{', '.join(supported)})", key)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list" if all(isinstance(x, str) for x in value) else "a list of non-strings"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
