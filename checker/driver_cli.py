"""What the ``simulate`` and ``run`` commands share: their one option dialect, option types,
the parsers of fault schedules given as text, and the start-up report of a real run. The
model commands (``check``, ``graph``, ``explore``) take their ``--param`` and ``--variant``
from here too (``model_options``): one declaration of each.

The dialect is ``paxchain check``'s: protocol parameters are ``--param NAME=VALUE`` (``-p``)
under the names the models use (``acceptors``, ``nodes``, ``k``, ``tie``...), a seeded bug is
``--variant NAME``, message latency is ``--latency LO..HI``, and ``--timeout`` is left to
``prove`` (solver seconds): a proposer's retry timer is ``--retry-timeout``. The older
spellings (``--bug``, ``--delay``, ``--timeout`` here, one flag per parameter such as
``--acceptors 5``) still work: ``DialectCommand`` rewrites them into the new ones before click
parses the line, so they are in no help text and there is one code path.

Every parser raises ``UserError`` (one line, exit 2) for text it cannot read; NaN and infinity
are refused wherever a number is read (``paxchain.models.errors.finite_number``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.impl.simulator import Clock, Crash, Latency, Partition, Pause
from paxchain.models.errors import UserError, finite_number

__all__ = ["FINITE", "POSITIVE", "Param", "DialectCommand", "driver_command", "param_option",
           "model_options", "model_trace_options",
           "resolve_params", "variant_option", "crash_point_options", "real_latency_option",
           "parse_latency", "parse_real_latency", "parse_pause", "parse_crash",
           "parse_partition", "real_pause_option", "real_partition_option", "real_drift_option",
           "parse_node_value", "parse_clocks", "startup_text", "plural", "OLD_SPELLINGS",
           "nearest"]

_num = finite_number  # ``text`` as a finite number, or a one-line ``UserError``


class _Finite(click.ParamType):
    """A click number option that refuses NaN and infinity, with a one-line ``UserError``."""

    name = "number"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        return _num(value, param.opts[0] if param is not None and param.opts else "value")


FINITE = _Finite()


class _Positive(_Finite):
    """A finite number above 0."""

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        x = super().convert(value, param, ctx)
        if x <= 0:
            name = param.opts[0] if param is not None and param.opts else "value"
            raise UserError(f"{name} must be more than 0, not {value}")
        return x


POSITIVE = _Positive()


# -- the dialect: --param, --variant, --latency, --retry-timeout; older spellings rewritten -----

@dataclass(frozen=True)
class Param:
    """A protocol parameter of a driver command, given as ``--param NAME=VALUE``."""

    name: str
    type: click.ParamType
    default: Any
    doc: str

    @property
    def old_flag(self) -> str:
        """The flag it had before ``--param`` (``max_drift`` -> ``--max-drift``)."""
        return "--" + self.name.replace("_", "-")


# Older spelling -> (new option, value as the new option takes it), for every driver command;
# a command adds its parameters' old flags (``Param.old_flag``) and its own (``--delay``).
OLD_SPELLINGS: dict[str, Callable[[str], tuple[str, str]]] = {
    "--bug": lambda v: ("--variant", v),
}


def _rewrite(args: list[str], old: Mapping[str, Callable[[str], tuple[str, str]]]
             ) -> list[str]:
    """``args`` with every older spelling (``--bug X``, ``--bug=X``) in its new form; ``--``
    ends the options, as for click. An old option given last without its value becomes the
    new option without one, so click's own "requires an argument" names the new spelling."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        name, eq, value = arg.partition("=")
        if name not in old:
            out.append(arg)
            i += 1
            continue
        if eq:
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            out.append(old[name]("")[0])
            break
        out.extend(old[name](value))
    return out


class DialectCommand(click.Command):
    """A click command that still takes the older spellings in ``old`` (rewritten into the new
    ones before parsing; see the module docstring) and lists only the new ones in its help."""

    def __init__(self, *args: Any,
                 old: Mapping[str, Callable[[str], tuple[str, str]]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.old = dict(old or {})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _rewrite(list(args), self.old))


def driver_command(name: str, params: Iterable[Param] = (),
                   old: Mapping[str, Callable[[str], tuple[str, str]]] | None = None) -> Any:
    """``click.command(name)`` in the driver dialect: ``--bug``, each parameter's old flag and
    ``old`` are accepted as older spellings."""
    table = dict(OLD_SPELLINGS)
    for p in params:
        table[p.old_flag] = (lambda n: lambda v: ("--param", f"{n}={v}"))(p.name)
    table.update(old or {})
    return click.command(name, cls=DialectCommand, old=table)


def param_option(params: Iterable[Param] | None = None) -> Any:
    """The repeatable ``--param NAME=VALUE`` (``-p``) option: over a driver's ``params``
    (listed in its help), or with ``None`` a model's (``paxchain list`` names them)."""
    if params is None:
        text = "Model parameter (repeatable); see `paxchain list`."
    else:
        listed = "; ".join(f"{p.name}={p.default} ({p.doc})" for p in params)
        text = f"Protocol parameter (repeatable), named as in `paxchain check`: {listed}."
    return click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
                        help=text)


def model_options(f: Any) -> Any:
    """A model command's ``--param NAME=VALUE`` (repeatable) and ``--variant NAME`` (one; the
    model registry checks both when it builds the model)."""
    f = click.option("--variant", default=None, metavar="NAME",
                     help="A seeded bug variant of the model (see `paxchain list MODEL`).")(f)
    return param_option()(f)


def resolve_params(pairs: Iterable[str], params: Iterable[Param]) -> dict[str, Any]:
    """Every parameter's value: its default, or the last ``NAME=VALUE`` that names it, read by
    its type. A pair without ``=``, an unknown name or a bad value is one ``UserError`` line."""
    by_name = {p.name: p for p in params}
    values = {p.name: p.default for p in by_name.values()}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"--param takes NAME=VALUE, not {pair!r}")
        if name not in by_name:
            raise UserError(f"--param: no parameter {name!r} (known: {', '.join(by_name)})"
                            + nearest(name, by_name))
        try:
            values[name] = by_name[name].type.convert(text.strip(), None, None)
        except click.BadParameter as exc:
            raise UserError(f"--param {name}: {exc.message}") from None
    return values


def nearest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the known name closest to a mistyped ``name``, or
    nothing when none is close."""
    near = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


class _VariantName(click.ParamType):
    """A variant of ``catalogue``, checked when the line is parsed: after ``--plugin`` has
    registered its variants, before anything runs."""

    name = "variant"

    def __init__(self, catalogue: Any) -> None:
        self.catalogue = catalogue

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            self.catalogue.check([value])
        except ValueError as exc:
            raise UserError(f"--variant: {exc}{nearest(value, self.catalogue)}") from None
        return value


def variant_option(catalogue: Any) -> Any:
    """The repeatable ``--variant NAME`` option over ``catalogue``'s variants."""
    listed = ", ".join(catalogue.names()) or "none registered"
    return click.option("--variant", "variants", multiple=True, metavar="NAME",
                        type=_VariantName(catalogue),
                        help=f"Run a seeded variant instead of the production actors "
                             f"(repeatable; plugins may add more): {listed}.")


def real_latency_option(f: Any) -> Any:
    """A real run's ``--latency LO..HI`` in milliseconds (older: ``--delay MS`` = ``0..MS``)."""
    return click.option("--latency", default="0..0", show_default=True, metavar="LO..HI",
                        help="Extra delay per datagram in milliseconds, uniform in LO..HI; LO "
                             "must be 0 (a real run injects no minimum delay).")(f)


def parse_real_latency(text: str) -> float:
    """A real run's ``--latency 0..HI`` as ``HI`` (the injected delay's upper bound, in ms)."""
    lat = parse_latency(text)
    if lat.kind != "uniform":
        raise UserError(f"--latency {text}: a real run takes LO..HI milliseconds")
    if lat.lo != 0 or lat.hi < 0:
        raise UserError(f"--latency {text}: a real run's injected delay is 0..HI milliseconds "
                        f"with HI >= 0")
    return lat.hi


def crash_point_options(f: Any) -> Any:
    """``--crash-points P``, ``--crash-points-max N``, ``--crash-points-down D``."""
    for opt in reversed([
            click.option("--crash-points", type=FINITE, default=0.0, show_default=True,
                         metavar="P", help="Probability per handler call that a crash falls "
                         "between its effects (the effects before the cut happen, the rest "
                         "never do); seeded."),
            click.option("--crash-points-max", type=int, default=1, show_default=True,
                         metavar="N", help="At most this many crash points in a run."),
            click.option("--crash-points-down", type=FINITE, default=10.0, show_default=True,
                         metavar="T", help="A node hit by a crash point restarts this much "
                         "later (simulated time).")]):
        f = opt(f)
    return f


def model_trace_options(model: str) -> Any:
    """``--minimize`` and ``--out DIR``: a violation the simulator found, re-executed as a run
    of ``model`` (how the help names it) and shortened or written there, as ``check`` does."""
    def apply(f: Any) -> Any:
        f = click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR",
                         help=f"A violation: write it, re-executed as a trace of {model}, in "
                              "every format (trace.json, .txt, .dot, .svg, ...) into DIR, as "
                              "check --out does.")(f)
        return click.option("--minimize", is_flag=True,
                            help=f"A violation: re-executed as a run of {model} and shortened "
                                 "there, as check --minimize does; prints the trace.")(f)
    return apply


def seed_option(what: str, replays: bool = True) -> Any:
    """``--seed N``: the run's one source of randomness (``what`` it seeds); ``replays``: the
    same seed and options give the same run (the simulator, not a real run)."""
    same = ": same seed and options, same run" if replays else ""
    return click.option("--seed", type=int, default=0, show_default=True, metavar="N",
                        help=f"Seeds {what}{same}.")


def loss_option(f: Any) -> Any:
    """``--loss P``: the probability that a message is lost."""
    return click.option("--loss", type=FINITE, default=0.0, show_default=True, metavar="P",
                        help="Probability that a message is lost.")(f)


_PARTITION_HELP = ("Cut every link between GROUPS (nodes joined by commas, groups by |; the "
                   "nodes named in no group are one more group) from START to END{unit}, then "
                   "heal (repeatable); a message sent over a cut link is lost.")


def sim_fault_options(f: Any) -> Any:
    """The simulator's ``--dup``, ``--latency``, ``--crash``, ``--pause``, ``--partition``,
    ``--clock-offset`` and ``--drift`` (times in the simulator's units, those of
    ``--until``)."""
    for opt in reversed([
            click.option("--dup", type=FINITE, default=0.0, show_default=True, metavar="P",
                         help="Probability that a message is duplicated."),
            click.option("--latency", default="1..10", show_default=True,
                         metavar="LO..HI|exp:MEAN|exp:LO:MEAN",
                         help="Message latency in simulated time: uniform in LO..HI, or "
                              "exponential with mean MEAN (above LO)."),
            click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]",
                         help="Crash NODE at time AT (repeatable); it restarts from its disk "
                              "DOWN_FOR later, or never."),
            click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR",
                         help="Pause NODE at time AT for FOR (repeatable): it handles nothing "
                              "meanwhile, then all that waited, late."),
            click.option("--partition", "partitions", multiple=True,
                         metavar="GROUPS@START..END", help=_PARTITION_HELP.format(unit="")),
            click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:OFFSET",
                         help="NODE's clock is OFFSET ahead of global time (repeatable)."),
            click.option("--drift", "drifts", multiple=True, metavar="NODE:DRIFT",
                         help="NODE's clock runs at rate 1 + DRIFT (repeatable): local = "
                              "offset + (1 + drift) * global, and its timers fire after their "
                              "delay of local time.")]):
        f = opt(f)
    return f


def real_crash_option(f: Any) -> Any:
    """A real run's ``--crash NODE:AT[:DOWN_FOR]`` (seconds, SIGKILL)."""
    return click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]",
                        help="SIGKILL NODE AT seconds after the run starts (even during its "
                             "start-up); restart it DOWN_FOR seconds later (repeatable).")(f)


def real_pause_option(f: Any) -> Any:
    """A real run's ``--pause NODE:AT:FOR`` (seconds, SIGSTOP then SIGCONT)."""
    return click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR",
                        help="SIGSTOP NODE AT seconds after the run starts, for FOR seconds "
                             "(repeatable).")(f)


def real_partition_option(f: Any) -> Any:
    """A real run's ``--partition GROUPS@START..END`` (seconds since the run started)."""
    return click.option("--partition", "partitions", multiple=True,
                        metavar="GROUPS@START..END",
                        help=_PARTITION_HELP.format(unit=" seconds after the run starts"))(f)


def real_drift_option(f: Any) -> Any:
    """A real run's ``--drift NODE:DRIFT`` (the clock a node's handlers read)."""
    return click.option("--drift", "drifts", multiple=True, metavar="NODE:DRIFT",
                        help="NODE's clock runs at rate 1 + DRIFT (repeatable), as in "
                             "simulate: the time its handlers read and its timers' delays "
                             "are of that clock.")(f)


def real_run_options(deadline: float) -> Any:
    """A real run's ``--base-port``, ``--deadline`` (default ``deadline`` s) and
    ``--data-dir``."""
    opts = [
            click.option("--base-port", type=int, default=0, show_default=True, metavar="PORT",
                         help="First UDP port (nodes get consecutive ports); 0 = free ports."),
            click.option("--deadline", type=FINITE, default=deadline, show_default=True,
                         metavar="SECONDS",
                         help="The whole run, start-up included, ends after this many seconds."),
            click.option("--data-dir", type=click.Path(file_okay=False),
                         help="Keep the nodes' durable files here (default: a temporary "
                              "folder).")]

    def apply(f: Any) -> Any:
        for opt in reversed(opts):
            f = opt(f)
        return f
    return apply


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


def parse_partition(text: str) -> Partition:
    """``A,B|C@START..END``: the groups of nodes whose links are cut from START to END."""
    groups_text, at, span = text.rpartition("@")
    start, sep, end = span.partition("..")
    if not at or not sep or not groups_text:
        raise UserError(f"--partition takes GROUPS@START..END (e.g. a1,p1|a2,a3@10..50), "
                        f"not {text!r}")
    groups = tuple(tuple(n.strip() for n in g.split(",")) for g in groups_text.split("|"))
    if any(not n for g in groups for n in g):
        raise UserError(f"--partition {text}: an empty node name")
    try:
        return Partition(groups, _num(start, "--partition"), _num(end, "--partition"))
    except ValueError as exc:
        raise UserError(f"--{exc}") from None


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
