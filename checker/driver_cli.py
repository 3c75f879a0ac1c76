"""What the ``simulate`` and ``run`` commands share: option types, the parsers of fault
schedules given as text, and the start-up report of a real run.

Every parser raises ``UserError`` (one line, exit 2) for text it cannot read; NaN and infinity
are refused wherever a number is read (``paxchain.models.errors.finite_number``).
"""

from __future__ import annotations

from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.impl.simulator import Clock, Crash, Latency, Pause
from paxchain.models.errors import UserError, finite_number

__all__ = ["FINITE", "variant_option", "crash_point_options", "parse_latency", "parse_pause",
           "parse_crash", "parse_node_value", "parse_clocks", "startup_text", "plural"]

_num = finite_number  # ``text`` as a finite number, or a one-line ``UserError``


class _Finite(click.ParamType):
    """A click number option that refuses NaN and infinity, with a one-line ``UserError``."""

    name = "number"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        return _num(value, param.opts[0] if param is not None and param.opts else "value")


FINITE = _Finite()


def variant_option(names: Any) -> Any:
    """The repeatable ``--variant NAME`` option, its help listing ``names`` (name -> doc)."""
    listed = ", ".join(names) or "none registered"
    return click.option("--variant", "variants", multiple=True, metavar="NAME",
                        help=f"run a seeded variant instead of the production actors "
                             f"(repeatable): {listed}")


def crash_point_options(f: Any) -> Any:
    """``--crash-points P``, ``--crash-points-max N``, ``--crash-points-down D``."""
    for opt in reversed([
            click.option("--crash-points", type=FINITE, default=0.0, show_default=True,
                         metavar="P", help="probability per handler call that a crash falls "
                         "between its effects (the effects before the cut happen, the rest "
                         "never do); seeded"),
            click.option("--crash-points-max", type=int, default=1, show_default=True,
                         help="at most this many crash points in a run"),
            click.option("--crash-points-down", type=FINITE, default=10.0, show_default=True,
                         help="a node hit by a crash point restarts this much later")]):
        f = opt(f)
    return f


def parse_latency(text: str, option: str = "--latency") -> Latency:
    """``LO..HI`` (uniform), ``exp:MEAN`` or ``exp:LO:MEAN`` (LO + exponential)."""
    try:
        if text.startswith("exp:"):
            parts = [_num(p, option) for p in text[4:].split(":")]
            if len(parts) == 1:
                return Latency("exp", 0.0, 0.0, parts[0])
            if len(parts) == 2:
                return Latency("exp", parts[0], 0.0, parts[1])
        else:
            lo, sep, hi = text.partition("..")
            if sep:
                return Latency("uniform", _num(lo, option), _num(hi, option))
    except ValueError as exc:
        raise UserError(f"{option} {text}: {exc}") from None
    raise UserError(f"{option} takes LO..HI, exp:MEAN or exp:LO:MEAN, not {text!r}")


def parse_pause(text: str) -> Pause:
    """``NODE:AT:FOR``."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0]:
        raise UserError(f"--pause takes NODE:AT:FOR, not {text!r}")
    return Pause(parts[0], _num(parts[1], "--pause"), _num(parts[2], "--pause"))


def parse_crash(text: str) -> Crash:
    """``NODE:AT`` (down for good) or ``NODE:AT:DOWN_FOR`` (then restarts)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise UserError(f"--crash takes NODE:AT or NODE:AT:DOWN_FOR, not {text!r}")
    down = _num(parts[2], "--crash") if len(parts) == 3 else None
    return Crash(parts[0], _num(parts[1], "--crash"), down)


def parse_node_value(text: str, option: str) -> tuple[str, float]:
    """``NODE:VALUE``."""
    node, sep, value = text.partition(":")
    if not sep or not node:
        raise UserError(f"{option} takes NODE:VALUE, not {text!r}")
    return node, _num(value, option)


def parse_clocks(offsets: Any, drifts: Any) -> tuple[tuple[str, Clock], ...]:
    """``--clock-offset NODE:OFFSET`` and ``--drift NODE:DRIFT`` texts as one clock per node
    named (the last value given wins), in node order."""
    clocks: dict[str, Clock] = {}
    for text in offsets:
        n, x = parse_node_value(text, "--clock-offset")
        clocks[n] = Clock(x, clocks.get(n, Clock()).drift)
    for text in drifts:
        n, x = parse_node_value(text, "--drift")
        clocks[n] = Clock(clocks.get(n, Clock()).offset, x)
    return tuple(sorted(clocks.items(), key=lambda item: item[0]))


def plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def startup_text(cluster: Any, nodes: list[str]) -> None:
    """Print what the crash schedule of a real run did, nodes that never came up, and nodes
    that failed."""
    for t, name, what in cluster.log:
        echo(f"{name}: {what} at {t:.3f} s")
    never = [n for n in nodes if not cluster.recovered[n] and n not in cluster.down]
    if never:
        shown = ", ".join(never[:6]) + (f" and {len(never) - 6} more" if len(never) > 6 else "")
        echo(f"start-up: {len(nodes) - len(never)} of {len(nodes)} nodes came up before "
             f"the run ended; not up: {shown}")
    for name, why in sorted(cluster.failed.items()):
        echo(f"{name}: failed: {why}")
