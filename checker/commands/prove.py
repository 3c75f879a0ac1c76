"""``paxchain prove``: Z3 proofs for every size — Paxos's inductive invariant, quorum systems,
the chain's structural invariants.

Each prints a checklist of obligations with verdicts and times. Exit 0: everything proved;
1: an obligation failed (its counterexample is printed); 3: some obligation is unknown or timed
out (unproven, never reported as proved); 2: bad input.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from paxchain.checker import induction
from paxchain.checker.artifacts import write_set
from paxchain.checker.cli import echo, verdict
from paxchain.checker.common_prefix import common_prefix_cti
from paxchain.checker.files import write_atomic
from paxchain.checker.render_cti import cti_dot
from paxchain.checker.render_dot import DotFailed, dot_available, render_svg
from paxchain.models.errors import UserError, finite_number
from paxchain.specs import chain_z3, paxos_z3, quorums_z3

__all__ = ["command"]


_MAX_TIMEOUT_MS = 2**32 - 2  # Z3's timeout is an unsigned int of ms; 2**32 - 1 means none


def _timeout_ms(ctx, param, value) -> int:
    """``--timeout SECONDS`` as whole milliseconds for Z3: a finite number of at least a
    millisecond and below Z3's limit; anything else (NaN, inf, 0, negative, text) is bad input."""
    seconds = finite_number(value, "--timeout")
    if seconds * 1000 > _MAX_TIMEOUT_MS:
        raise UserError(f"--timeout {value} is above Z3's limit of {_MAX_TIMEOUT_MS // 1000} s")
    ms = math.floor(seconds * 1000)
    if ms < 1:
        raise UserError(f"--timeout must be positive (at least 0.001 seconds), not {value}")
    return ms


def _limit_options(f):
    """``--timeout SECONDS`` (wall clock, the default) or ``--rlimit STEPS`` (Z3's resource
    count: the same verdict on every machine and under any load, as CI wants)."""
    f = click.option("--rlimit", type=click.IntRange(min=1), default=None, metavar="STEPS",
                     help="Per-obligation limit in Z3 resource steps instead of seconds: "
                          "reproducible on any machine.")(f)
    return click.option("--timeout", "timeout_ms", default="10", show_default=True,
                        metavar="SECONDS", callback=_timeout_ms,
                        help="Per-obligation solver time limit; an obligation that runs out "
                             "is unproven.")(f)


@click.group(name="prove")
def command() -> None:
    """Prove properties for every size with Z3 (induction), or show why they fail."""


def _write_cti(out: str, text: str, cti, orders) -> list[Path]:
    """cti.txt, cti.dot and (when graphviz's ``dot`` is installed) cti.svg, rendered first and
    then written as one set (``paxchain.checker.artifacts.write_set``)."""
    dot = cti_dot(cti, orders)
    files: dict[str, str | bytes] = {"cti.txt": text, "cti.dot": dot}
    if dot_available():
        try:
            files["cti.svg"] = render_svg(dot)
        except DotFailed as exc:
            echo(f"paxchain: warning: no cti.svg: {exc}", err=True)
    return write_set(out, files, "cti")


def _json_option(f):
    """``--json [FILE]`` as ``paxchain check`` has it: alone, the JSON replaces the text on
    stdout; with FILE, the text is printed as usual and the JSON written to FILE."""
    return click.option("--json", "as_json", is_flag=False, flag_value="-", default=None,
                        metavar="[FILE]",
                        help="The whole result as JSON: on stdout (instead of the text), or "
                             "into FILE.")(f)


def _report(as_json: str | None, data, text: str) -> None:
    """Print ``text``, or the JSON ``data`` instead (``--json``), or both to their places
    (``--json FILE``: the file is written first)."""
    if as_json == "-":
        echo(json.dumps(data, indent=1))
        return
    if as_json:
        write_atomic(as_json, json.dumps(data, indent=1) + "\n")
    echo(text, nl=False)


def _finish(report, as_json: str | None, out: str | None, orders=None) -> None:
    code = verdict(report.exit_code)  # before any output (``paxchain.checker.cli``)
    failures = report.failures()
    text = report.checklist() + "".join(
        "\n" + (o.cti.text() if o.cti else f"{o.conjunct}: failed (no model)")
        for o in failures)
    _report(as_json, report.to_json(), text)
    ctis = [o.cti for o in failures if o.cti is not None]
    if out is not None and ctis:
        written = _write_cti(out, "\n".join(c.text() for c in ctis), ctis[0], orders)
        if as_json != "-":
            echo("wrote " + ", ".join(str(p) for p in written))
    sys.exit(code)


@command.command(name="paxos")
@click.option("--drop-conjunct", "drop", multiple=True, metavar="NAME",
              help="Remove an invariant conjunct (repeatable) to see why it is needed.")
@click.option("--variant", default=None, metavar="NAME",
              help="Use a seeded bug's transition relation (as in models/lamport_paxos.py).")
@click.option("--out", default=None, metavar="DIR",
              help="Write cti.txt, cti.dot (and cti.svg) for a failed obligation.")
@_json_option
@_limit_options
def paxos(drop: tuple[str, ...], variant: str | None, out: str | None, as_json: str | None,
          timeout_ms: int, rlimit: int | None) -> None:
    """Prove that Paxos's invariant is inductive and implies agreement, for any number of
    acceptors, ballots and values."""
    names = paxos_z3.conjunct_names()
    for d in drop:
        if d not in names:
            raise UserError(f"unknown conjunct {d!r} (known: {', '.join(names)})")
    if variant is not None and variant not in paxos_z3.VARIANTS:
        raise UserError(f"unknown variant {variant!r} (known: {', '.join(paxos_z3.VARIANTS)})")
    system = paxos_z3.system(variant=variant, drop=drop)
    report = induction.check(system, timeout_ms=timeout_ms, rlimit=rlimit)
    _finish(report, as_json, out, system.orders)


@command.command(name="quorums")
@click.option("--acceptors", type=int, default=None, metavar="N",
              help="Majorities of N acceptors (omit N with --all-sizes).")
@click.option("--all-sizes", is_flag=True, help="Majorities of every size n (symbolic n).")
@click.option("--quorums", "explicit", default=None, metavar="a1+a2,a2+a3,...",
              help="An explicit quorum system.")
@click.option("--weights", default=None, metavar="a1=2,a2=1,...",
              help="Weighted quorums: every set whose weight reaches --threshold.")
@click.option("--threshold", type=int, default=None, metavar="T",
              help="With --weights: the weight a set needs to be a quorum.")
@_json_option
def quorums(acceptors: int | None, all_sizes: bool, explicit: str | None, weights: str | None,
            threshold: int | None, as_json: str | None) -> None:
    """Prove that any two quorums intersect, or show two disjoint quorums."""
    if sum(x is not None for x in (acceptors, explicit, weights)) + all_sizes != 1:
        raise UserError("give exactly one of --acceptors N, --all-sizes, --quorums, --weights")
    if (weights is None) != (threshold is None):
        raise UserError("--weights and --threshold go together")
    if all_sizes:
        result = quorums_z3.prove_majorities()
    elif acceptors is not None:
        if acceptors < 1:
            raise UserError("--acceptors must be at least 1")
        result = quorums_z3.prove_majorities(acceptors)
    elif explicit is not None:
        result = quorums_z3.prove_explicit(quorums_z3.parse_quorums(explicit))
    else:
        result = quorums_z3.prove_weighted(quorums_z3.parse_weights(weights), threshold)
    code = verdict(result.exit_code)
    _report(as_json, result.to_json(), result.text())
    sys.exit(code)


@command.command(name="chain")
@_json_option
@click.option("--out", default=None, metavar="DIR",
              help="Write the common-prefix counterexample as cti.txt / cti.dot / cti.svg.")
@_limit_options
def chain(as_json: str | None, out: str | None, timeout_ms: int, rlimit: int | None) -> None:
    """Prove the chain's structural invariants; show that k-common-prefix is not inductive."""
    report = induction.check(chain_z3.system(), timeout_ms=timeout_ms, rlimit=rlimit)
    prefix = common_prefix_cti(timeout_ms=timeout_ms, rlimit=rlimit)
    # The common-prefix counterexample is the expected outcome (it is *shown* not inductive):
    # the exit code reflects the structural proof, 3 when the counterexample could not be found.
    code = report.exit_code
    if code == 0 and prefix.verdict != "failed":
        code = 3
    verdict(code)
    text = (report.checklist() + "".join(o.cti.text() if o.cti else ""
                                         for o in report.failures())
            + "\n" + prefix.text())
    _report(as_json, {"structural": report.to_json(), "common_prefix": prefix.to_json()}, text)
    if out is not None and prefix.cti is not None:
        _write_cti(out, prefix.text(), prefix.cti, chain_z3.ORDERS)
    sys.exit(code)
