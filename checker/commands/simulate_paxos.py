"""``paxchain simulate paxos``: impl/paxos.py's handlers in the seeded simulator.

Prints the configuration, every learner's decision with its time, what was *chosen* (a quorum of
acceptors sent ``Accepted`` for one value in one ballot -- seen from outside, whatever learners
make of it), the verdicts for agreement and validity, message counts and the ballots tried.
Exit 0: every learner decided and both properties hold; 1: a property is violated; 3: no
violation, but some learner had not decided when the run ended; 2: bad input.

A *scenario* (``Scenario``) is every input of a run: cluster size, variants (``--variant``, from
the catalogue ``paxchain.impl.paxos_variants.PAXOS``), timeouts, the seed and the fault schedule, crash
points inside handlers included (``--crash-points``: see ``paxchain.impl.simulator``). ``--save FILE`` writes a *simulation trace*: the project's trace JSON
layout (``checker/trace.py``) with ``#meta.model = "paxos-sim"``, the scenario in
``#meta.params`` and one entry of ``states`` per logged simulator event (vars ``time``,
``event``, ``node``, ``detail``). ``--replay FILE`` rebuilds the scenario from the file, re-runs
it, checks that every logged event is reproduced exactly, and re-checks the properties.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import click

from paxchain.checker.cli import echo
from paxchain.checker.cli import verdict as record_verdict
from paxchain.models.errors import UserError, finite_number
from paxchain.checker.files import read_json, write_atomic
from paxchain.checker.trace import FORMAT, FORMAT_VERSION
from paxchain.checker.version import __version__
from paxchain.impl.paxos import Accepted, Prepare, make_cluster
from paxchain.impl.paxos_variants import PAXOS
from paxchain.impl.simulator import Clock, Crash, Latency, Pause, SimConfig, SimResult, simulate

__all__ = ["subcommand", "Scenario", "Verdict", "run_scenario", "check_result", "summary_text",
           "trace_json", "replay_data", "parse_latency", "parse_pause", "parse_crash",
           "parse_node_value", "MODEL", "FINITE", "variant_option", "crash_point_options",
           "check_variants"]

MODEL = "paxos-sim"
_VARS = ["time", "event", "node", "detail"]


# -- parsing -------------------------------------------------------------------------------------

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


def check_variants(catalogue: Any, names: Any) -> None:
    """``UserError`` (one line) for a name that ``catalogue`` does not hold."""
    try:
        catalogue.check(names)
    except ValueError as exc:
        raise UserError(str(exc)) from None


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


def parse_latency(text: str) -> Latency:
    """``LO..HI`` (uniform), ``exp:MEAN`` or ``exp:LO:MEAN`` (LO + exponential)."""
    try:
        if text.startswith("exp:"):
            parts = [_num(p, "--latency") for p in text[4:].split(":")]
            if len(parts) == 1:
                return Latency("exp", 0.0, 0.0, parts[0])
            if len(parts) == 2:
                return Latency("exp", parts[0], 0.0, parts[1])
        else:
            lo, sep, hi = text.partition("..")
            if sep:
                return Latency("uniform", _num(lo, "--latency"), _num(hi, "--latency"))
    except ValueError as exc:
        raise UserError(f"--latency {text}: {exc}") from None
    raise UserError(f"--latency takes LO..HI, exp:MEAN or exp:LO:MEAN, not {text!r}")


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


# -- scenarios -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """Every input of one simulated Paxos run. ``stop``: ``decided`` ends the run once every
    learner decided; ``quiescent`` runs until no event is left (or ``until``)."""

    acceptors: int = 3
    proposers: int = 2
    learners: int = 1
    seed: int = 0
    loss: float = 0.0
    dup: float = 0.0
    latency: Latency = Latency("uniform", 1.0, 10.0)
    pauses: tuple[Pause, ...] = ()
    crashes: tuple[Crash, ...] = ()
    clocks: tuple[tuple[str, Clock], ...] = ()
    timeout: float = 30.0
    backoff: float = 1.5
    max_rounds: int = 0
    until: float = 5000.0
    variants: tuple[str, ...] = ()
    stop: str = "decided"
    crash_points: float = 0.0
    crash_points_max: int = 1
    crash_points_down: float = 10.0

    def validate(self) -> None:
        """Raise ``UserError`` (one line) for parameters no run can have."""
        if self.acceptors < 1:
            raise UserError("--acceptors must be at least 1")
        if self.proposers < 1 or self.learners < 1:
            raise UserError("--proposers and --learners must be at least 1")
        for what, x in (("--loss", self.loss), ("--dup", self.dup), ("--timeout", self.timeout),
                        ("--backoff", self.backoff), ("--until", self.until)):
            if not math.isfinite(x):
                raise UserError(f"{what} must be a finite number, not {x}")
        if not 0 <= self.loss < 1:
            raise UserError(f"--loss must be in [0, 1), not {self.loss}")
        if not 0 <= self.dup <= 1:
            raise UserError(f"--dup must be in [0, 1], not {self.dup}")
        if self.timeout <= 0 or self.backoff < 1 or self.max_rounds < 0 or self.until <= 0:
            raise UserError("need --timeout > 0, --backoff >= 1, --max-rounds >= 0, --until > 0")
        check_variants(PAXOS, self.variants)
        if self.stop not in ("decided", "quiescent"):
            raise UserError(f"stop must be decided or quiescent, not {self.stop!r}")
        nodes = set(self.cluster())
        for name in [p.node for p in self.pauses] + [c.node for c in self.crashes] + [
                n for n, _ in self.clocks]:
            if name not in nodes:
                raise UserError(f"unknown node {name!r} (nodes: {', '.join(self.cluster())})")
        try:
            self.config()
        except ValueError as exc:
            raise UserError(str(exc)) from None

    def cluster(self) -> dict[str, Any]:
        # A restarted proposer serves a new client request: p1 proposes v1, then v1r1 after its
        # first restart, v1r2 after its second... (what makes a reused ballot harmful).
        values = [(f"v{i}",) + tuple(f"v{i}r{k}" for k in range(1, 4))
                  for i in range(1, self.proposers + 1)]
        nodes = PAXOS.apply(self.variants, make_cluster(
            self.acceptors, self.proposers, self.learners, values, timeout=self.timeout,
            backoff=self.backoff, max_rounds=self.max_rounds))
        return {n: actor for n, (actor, _) in nodes.items()}

    def config(self) -> SimConfig:
        return SimConfig(seed=self.seed, latency=self.latency, loss=self.loss, dup=self.dup,
                         pauses=self.pauses, crashes=self.crashes, clocks=self.clocks,
                         until=self.until, crash_points=self.crash_points,
                         crash_points_max=self.crash_points_max,
                         crash_points_down=self.crash_points_down)

    def to_params(self) -> dict[str, Any]:
        """The scenario as plain JSON (numbers, strings, lists)."""
        d = asdict(self)
        d["pauses"] = [[p.node, p.at, p.duration] for p in self.pauses]
        d["crashes"] = [[c.node, c.at, c.down_for] for c in self.crashes]
        d["clocks"] = [[n, c.offset, c.drift] for n, c in self.clocks]
        d["variants"] = list(self.variants)
        return d

    @classmethod
    def from_params(cls, d: Any) -> "Scenario":
        """Inverse of ``to_params``; anything malformed is a ``UserError``."""
        if not isinstance(d, dict):
            raise UserError("simulation trace: params must be an object")
        try:
            lat = d.get("latency", {})
            sc = cls(
                acceptors=_whole(d["acceptors"]), proposers=_whole(d["proposers"]),
                learners=_whole(d["learners"]), seed=_whole(d["seed"]), loss=_number(d["loss"]),
                dup=_number(d["dup"]),
                latency=Latency(lat["kind"], _number(lat["lo"]), _number(lat["hi"]),
                                _number(lat["mean"])),
                pauses=tuple(Pause(str(n), _number(a), _number(f)) for n, a, f in d["pauses"]),
                crashes=tuple(Crash(str(n), _number(a), None if f is None else _number(f))
                              for n, a, f in d["crashes"]),
                clocks=tuple((str(n), Clock(_number(o), _number(r))) for n, o, r in d["clocks"]),
                timeout=_number(d["timeout"]), backoff=_number(d["backoff"]),
                max_rounds=_whole(d["max_rounds"]), until=_number(d["until"]),
                variants=tuple(str(b) for b in d["variants"]), stop=str(d["stop"]),
                crash_points=_number(d.get("crash_points", 0.0)),
                crash_points_max=_whole(d.get("crash_points_max", 1)),
                crash_points_down=_number(d.get("crash_points_down", 10.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"simulation trace: bad params ({type(exc).__name__}: {exc})") from None
        sc.validate()
        return sc


def _whole(x: Any) -> int:
    """A trace's integer parameter: an int, not a bool (``True == 1``), float or string."""
    if type(x) is not int:
        raise TypeError(f"{x!r} is not an integer")
    return x


def _number(x: Any) -> float:
    """A trace's number parameter: an int or float, not a bool or a string (``float("nan")``
    would read one)."""
    if type(x) not in (int, float):
        raise TypeError(f"{x!r} is not a number")
    return float(x)


@dataclass
class Verdict:
    """The properties of one run. ``chosen`` maps (ballot, value) to the acceptors that sent
    ``Accepted`` for it; a value is chosen when that set is a quorum."""

    decisions: dict[str, list[tuple[float, Any]]]
    chosen: list[tuple[tuple, Any]]
    proposed: set
    violated: str | None = None
    explanation: str = ""
    ballots: dict[str, list[tuple]] = field(default_factory=dict)

    @property
    def all_decided(self) -> bool:
        return all(self.decisions.values())


def check_result(sc: Scenario, result: SimResult) -> Verdict:
    """Agreement (learners decide one value, and at most one value is chosen) and validity (a
    decided or chosen value was proposed); also: a learner outputs at most once."""
    quorum = sc.acceptors // 2 + 1
    votes: dict[tuple, set] = {}
    ballots: dict[str, list[tuple]] = {}
    for _, src, _, msg in result.sent:
        if type(msg) is Accepted:
            votes.setdefault((msg.ballot, msg.value), set()).add(msg.acceptor)
        elif type(msg) is Prepare and msg.ballot not in ballots.setdefault(src, []):
            ballots[src].append(msg.ballot)
    chosen = sorted((k for k, accs in votes.items() if len(accs) >= quorum), key=repr)
    decisions = {n: [(t, v[1]) for t, v in outs if isinstance(v, tuple) and v[:1] == ("decided",)]
                 for n, outs in result.outputs.items() if n.startswith("l")}
    proposed = {v for actor in sc.cluster().values() for v in getattr(actor, "values", ())}
    verdict = Verdict(decisions, chosen, proposed, ballots=ballots)
    decided = {v for ds in decisions.values() for _, v in ds}
    chosen_values = {v for _, v in chosen}
    twice = [n for n, ds in decisions.items() if len(ds) > 1]
    if len(decided | chosen_values) > 1:
        verdict.violated = "agreement"
        chosen_text = ", ".join(f"{val} in ballot {b[0]}.{b[1]}" for b, val in chosen)
        decided_text = ", ".join(map(str, sorted(decided, key=repr)))
        verdict.explanation = (f"learners decided {decided_text or 'nothing'}; "
                               f"chosen: {chosen_text or 'nothing'}")
    elif twice:
        verdict.violated = "agreement"
        verdict.explanation = f"learner {twice[0]} decided more than once"
    elif not (decided | chosen_values) <= proposed:
        verdict.violated = "validity"
        verdict.explanation = f"{_show(sorted((decided | chosen_values) - proposed))} never proposed"
    return verdict


def _show(x: Any) -> str:
    return repr(x).replace("'", "")


def run_scenario(sc: Scenario) -> tuple[SimResult, Verdict]:
    """Validate ``sc``, run it, check it."""
    sc.validate()
    learners = [f"l{i}" for i in range(1, sc.learners + 1)]

    def stop(outputs: dict[str, list]) -> bool:
        return sc.stop == "decided" and all(outputs[l] for l in learners)

    result = simulate(sc.cluster(), sc.config(), stop)
    return result, check_result(sc, result)


def _n(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def _t(x: float) -> str:
    return f"{x:.3f}"


def summary_text(sc: Scenario, result: SimResult, v: Verdict) -> str:
    """The human-readable report (deterministic: same scenario, same text)."""
    lat = sc.latency
    lat_text = (f"uniform {lat.lo:g}..{lat.hi:g}" if lat.kind == "uniform"
                else f"{lat.lo:g} + exp(mean {lat.mean:g})")
    lines = [f"paxos simulation: {_n(sc.acceptors, 'acceptor')}, {_n(sc.proposers, 'proposer')}, "
             f"{_n(sc.learners, 'learner')}; seed {sc.seed}",
             f"network: loss {sc.loss:g}, dup {sc.dup:g}, latency {lat_text}; "
             f"timeout {sc.timeout:g}, backoff {sc.backoff:g}, max rounds "
             f"{sc.max_rounds or 'unbounded'}; until {sc.until:g}"]
    faults = ([f"pause {p.node} at {p.at:g} for {p.duration:g}" for p in sc.pauses]
              + [f"crash {c.node} at {c.at:g}" + ("" if c.down_for is None
                                                   else f" for {c.down_for:g}")
                 for c in sc.crashes]
              + [f"clock {n} offset {c.offset:g} drift {c.drift:g}" for n, c in sc.clocks])
    lines.append("faults: " + ("; ".join(faults) if faults else "none"))
    if sc.crash_points:
        lines.append(f"crash points: probability {sc.crash_points:g} per handler call, at most "
                     f"{sc.crash_points_max}, down for {sc.crash_points_down:g}")
    if sc.variants:
        lines.append("variants: " + ", ".join(sc.variants))
    for n, ds in v.decisions.items():
        lines.append(f"{n}: " + ("; ".join(f"decided {d} at t={_t(t)}" for t, d in ds)
                                 if ds else "no decision"))
    lines.append("chosen (quorum accepted in one ballot): "
                 + (", ".join(f"{val} in ballot {b[0]}.{b[1]}" for b, val in v.chosen)
                    or "nothing"))
    times = [t for ds in v.decisions.values() for t, _ in ds]
    if times:
        lines.append(f"time to decide: first {_t(min(times))}, last {_t(max(times))}")
    c = result.counts
    lines.append(f"messages: sent {c['sent']}, delivered {c['delivered']}, lost {c['lost']}, "
                 f"duplicated {c['duplicated']}, dropped at down nodes {c['dropped_down']}")
    if sc.crash_points:
        fell = [f"{node} at t={_t(t)} ({detail.split(';')[0]})"
                for t, what, node, detail in result.log if what == "crash-point"]
        lines.append(f"crash points: {len(fell)}" + (f" ({'; '.join(fell)})" if fell else ""))
    tried = sum(len(b) for b in v.ballots.values())
    lines.append(f"ballots tried: {tried} (" + "; ".join(
        f"{p}: " + " ".join(f"{b[0]}.{b[1]}" for b in bs) for p, bs in sorted(v.ballots.items()))
        + ")")
    lines.append(f"run: {result.events} events, ended at t={_t(result.end_time)} "
                 f"({result.stopped})")
    if v.violated:
        lines.append(f"VIOLATED {v.violated}: {v.explanation}")
    else:
        lines.append("agreement: holds; validity: holds"
                     + ("" if v.all_decided else " (not every learner decided)"))
    return "\n".join(lines) + "\n"


# -- simulation traces ---------------------------------------------------------------------------

def trace_json(sc: Scenario, result: SimResult, v: Verdict) -> dict[str, Any]:
    """The run as a simulation trace (see the module docstring)."""
    prop = v.violated or "agreement"
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "tool": "paxchain",
            "tool_version": __version__, "model": MODEL, "params": sc.to_params(),
            "variant": "+".join(sc.variants) or None, "property": prop, "kind": "invariant",
            "summary": {"agreement": "Learners decide one value; at most one value is chosen.",
                        "validity": "Only a proposed value is decided or chosen."}[prop],
            "outcome": "violation" if v.violated else "holds"}
    if v.violated:
        meta["explanation"] = v.explanation
    states = [{"#meta": {"index": i}, "time": t, "event": what, "node": node, "detail": detail}
              for i, (t, what, node, detail) in enumerate(result.log)]
    return {"#meta": meta, "vars": list(_VARS), "states": states}


def replay_data(data: Any) -> tuple[Scenario, SimResult, Verdict]:
    """Re-run a simulation trace; raise ``UserError`` if any logged event or the recorded
    outcome is not reproduced."""
    if not isinstance(data, dict) or not isinstance(data.get("#meta"), dict):
        raise UserError("not a paxchain trace: no #meta object")
    meta = data["#meta"]
    version = meta.get("format_version")
    # ``type() is int``: JSON's true is a bool, and ``True == 1`` in Python.
    if meta.get("format") != FORMAT or type(version) is not int or version != FORMAT_VERSION:
        raise UserError(f"not a paxchain trace of format version {FORMAT_VERSION} (an integer)")
    if meta.get("model") != MODEL:
        raise UserError(f"not a simulation trace: model is {meta.get('model')!r}, "
                        f"expected {MODEL!r} (use paxchain replay)")
    if data.get("vars") != _VARS or not isinstance(data.get("states"), list):
        raise UserError(f"simulation trace: vars must be {_VARS} and states a list")
    sc = Scenario.from_params(meta.get("params"))
    result, verdict = run_scenario(sc)
    for i, (entry, got) in enumerate(zip(data["states"], result.log)):
        want = [entry.get(k) for k in _VARS] if isinstance(entry, dict) else None
        if want != list(got):
            raise UserError(f"replay diverges at event {i}: recorded {want}, got {list(got)}")
    if len(data["states"]) != len(result.log):
        raise UserError(f"replay has {len(result.log)} events, the trace "
                        f"{len(data['states'])}")
    outcome = "violation" if verdict.violated else "holds"
    if meta.get("outcome") != outcome or (verdict.violated and
                                          meta.get("property") != verdict.violated):
        raise UserError(f"replay outcome {outcome} ({verdict.violated or '-'}) differs from the "
                        f"recorded {meta.get('outcome')} ({meta.get('property')})")
    return sc, result, verdict


def _exit_code(v: Verdict) -> int:
    return 1 if v.violated else (0 if v.all_decided else 3)


@click.command("paxos")
@click.option("--acceptors", type=int, default=3, show_default=True)
@click.option("--proposers", type=int, default=2, show_default=True)
@click.option("--learners", type=int, default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--loss", type=FINITE, default=0.0, show_default=True, help="loss probability")
@click.option("--dup", type=FINITE, default=0.0, show_default=True,
              help="duplication probability")
@click.option("--latency", default="1..10", show_default=True,
              help="LO..HI (uniform), exp:MEAN or exp:LO:MEAN")
@click.option("--pause", "pauses", multiple=True, metavar="NODE:AT:FOR")
@click.option("--crash", "crashes", multiple=True, metavar="NODE:AT[:DOWN_FOR]")
@click.option("--clock-offset", "offsets", multiple=True, metavar="NODE:OFFSET")
@click.option("--drift", "drifts", multiple=True, metavar="NODE:DRIFT",
              help="local = offset + (1 + drift) * global")
@click.option("--timeout", type=FINITE, default=30.0, show_default=True,
              help="proposer retry timeout (local time units)")
@click.option("--backoff", type=FINITE, default=1.5, show_default=True,
              help="timeout multiplier per round (capped at 16x)")
@click.option("--max-rounds", type=int, default=0, show_default=True, help="0 = unbounded")
@click.option("--until", type=FINITE, default=5000.0, show_default=True,
              help="global time bound")
@variant_option(PAXOS.names())
@crash_point_options
@click.option("--to-quiescence", is_flag=True,
              help="run until no event is left, not only until every learner decided")
@click.option("--save", type=click.Path(dir_okay=False), help="write the simulation trace")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False),
              help="re-run and re-check a saved simulation trace (other options ignored)")
def subcommand(acceptors, proposers, learners, seed, loss, dup, latency, pauses, crashes,
               offsets, drifts, timeout, backoff, max_rounds, until, variants, crash_points,
               crash_points_max, crash_points_down, to_quiescence, save, replay_file) -> None:
    """Simulate single-decree Paxos (impl/paxos.py); print decisions, time to decide,
    messages and ballots. Same seed, same output."""
    if replay_file:
        # the shared strict reader: size, depth, integer length and NaN/inf bounded, one line
        sc, result, verdict = replay_data(read_json(replay_file))
        replayed = f"replayed {replay_file}: {len(result.log)} events reproduced exactly"
    else:
        clocks: dict[str, list[float]] = {}
        for text in offsets:
            n, x = parse_node_value(text, "--clock-offset")
            clocks.setdefault(n, [0.0, 0.0])[0] = x
        for text in drifts:
            n, x = parse_node_value(text, "--drift")
            clocks.setdefault(n, [0.0, 0.0])[1] = x
        sc = Scenario(acceptors, proposers, learners, seed, loss, dup, parse_latency(latency),
                      tuple(parse_pause(p) for p in pauses),
                      tuple(parse_crash(c) for c in crashes),
                      tuple((n, Clock(o, d)) for n, (o, d) in sorted(clocks.items())),
                      timeout, backoff, max_rounds, until, tuple(variants),
                      "quiescent" if to_quiescence else "decided", crash_points,
                      crash_points_max, crash_points_down)
        result, verdict = run_scenario(sc)
        replayed = ""
    code = record_verdict(_exit_code(verdict))  # before any output (``paxchain.checker.cli``)
    if replayed:
        echo(replayed)
    echo(summary_text(sc, result, verdict), nl=False)
    if save:
        write_atomic(save, json.dumps(trace_json(sc, result, verdict), indent=1) + "\n")
        echo(f"trace: {save}")
    sys.exit(code)
