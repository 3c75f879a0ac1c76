"""``paxchain check``: search one model exhaustively, or run the gate of paxchain.toml.

With a MODEL: exit 0 when every property holds exhaustively within the bounds, 1 when one is
violated (the trace is printed and, with ``--out``, written in every format), 3 when the search
was cut short (a bound, ``--time-limit``, ``--memory-limit``, running out of memory, Ctrl-C), 2
on bad input — including a selection that leaves no property to check. ``--time-limit`` and
``--memory-limit`` bound every engine (bounded model checking too: each solver call gets the
time left). ``--out`` is written as one set (``paxchain.checker.outdir``): a run's files land together.
``--workers N`` (or ``auto``: one per core) searches with N processes
(``paxchain.checker.parallel``): the same counts, verdicts and traces as one, breadth-first only.
``--checkpoint DIR`` writes that search to DIR every ``--checkpoint-every`` seconds and on
Ctrl-C/SIGTERM; ``--resume DIR`` continues it (``paxchain.checker.checkpoint``). ``--ray [ADDRESS]`` runs the
same search on a Ray cluster (``paxchain.checker.ray_search``; no ADDRESS: a local Ray for the
run), with ``--workers N`` shards or one per CPU of the cluster.

Without a MODEL: every check of the checks file (``--checks FILE``, else ``paxchain.toml`` or
``[tool.paxchain]`` in ``pyproject.toml``, found walking up from the working directory;
``paxchain.checker.checks_file``) must give its expected verdict: correct models hold, and every
seeded bug variant violates the property it was seeded to break (``paxchain.checker.suite``).
Checks tagged ``slow = true`` run only with ``--slow``. No checks file found is bad input.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import click

from paxchain.checker.cli import echo, verdict
from paxchain.checker.driver_cli import model_options
from paxchain.checker.files import write_atomic
from paxchain.models import registry
from paxchain.models.errors import UserError
from paxchain.checker.explicit import check as run_check
from paxchain.checker.outdir import staged_dir
from paxchain.checker.parallel import check as run_parallel
from paxchain.checker.parallel import Unsupported, WorkerLost, parse_workers
from paxchain.checker.progress import progress_reporter
from paxchain.checker.ray_search import check as run_ray
from paxchain.checker.ray_search import load_ray
from paxchain.checker.render_text import trace_text
from paxchain.checker.report import header_text, summary_text
from paxchain.checker.result import VIOLATED, Options, Result
from paxchain.checker import random_walk
from paxchain.checker.steps import shorten
from paxchain.models.properties import LIVENESS, Kind
from paxchain.specs.model_properties import properties_of

__all__ = ["command", "parse_pairs"]


def parse_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("acceptors=3", ...)`` as a dict; a pair without ``=`` is bad input."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--param takes NAME=VALUE, not {pair!r}")
        out[name.strip()] = value.strip()
    return out


def _options(strategy, max_depth, max_states, time_limit, memory_limit, symmetry, deadlock,
             keep_going, props, exact, coverage, compact=False) -> Options:
    for name, value in (("--max-depth", max_depth), ("--max-states", max_states),
                        ("--time-limit", time_limit), ("--memory-limit", memory_limit)):
        if value is not None and not math.isfinite(value):
            raise UserError(f"{name} must be a finite number, not {value}")
        if value is not None and value < 0:
            raise UserError(f"{name} must not be negative")
    if memory_limit is not None and memory_limit == 0:
        raise UserError("--memory-limit must be more than 0 MB")
    return Options(strategy=strategy, max_depth=max_depth, max_states=max_states,
                   time_limit=time_limit, memory_limit=memory_limit, symmetry=symmetry,
                   deadlock=deadlock,
                   keep_going=keep_going, only=tuple(props) or None, fingerprints=not exact,
                   coverage=coverage, compact=compact)


def _workers(text: str) -> int:
    """``--workers``: a positive integer or ``auto``; anything else is bad input."""
    try:
        return parse_workers(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _search(model, opts: Options, quiet: bool, workers: int = 1,
            saving: tuple[str | None, float, str | None] = (None, 300.0, None),
            fallback: bool = False, ray: tuple[str | None, int | None] | None = None) -> Result:
    """Search ``model``: with more than one worker or a checkpoint, in parallel; ``fallback``
    (the gate): a check the parallel engine does not do (``Unsupported``) runs sequentially;
    ``ray``: (address or None for a local Ray, shards or None for one per CPU) on Ray."""
    checkpoint, every, resume = saving
    with progress_reporter(quiet) as (callback, interval):
        opts = replace(opts, progress=callback, progress_interval=interval)
        try:
            if ray is not None:
                return run_ray(model, opts, ray[1], ray[0], checkpoint, every, resume)
            if workers > 1 or checkpoint is not None or resume is not None:
                try:
                    return run_parallel(model, opts, workers, checkpoint, every, resume)
                except Unsupported:
                    if not fallback:
                        raise
            return run_check(model, opts)
        except WorkerLost as exc:
            raise UserError(f"the parallel search failed: {exc}") from None
        except ValueError as exc:  # e.g. an unknown property name, symmetry not offered
            raise UserError(str(exc)) from None


@click.command("check")
@click.argument("model", required=False)
@click.option("--model", "model_option", metavar="MODEL", default=None,
              help="The model, as the MODEL argument: a name from `paxchain list`, or your own "
                   "as MODULE:FACTORY or FILE.py:FACTORY.")
@model_options
@click.option("--engine", type=click.Choice(["explicit", "bmc", "random"]), default="explicit",
              show_default=True,
              help="explicit: exhaustive search; bmc: Z3 bounded model checking to --depth; "
                   "random: --walks random runs of up to --max-depth steps (finds bugs, "
                   "proves nothing).")
@click.option("--walks", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --engine random: how many random runs (default 1000).")
@click.option("--seed", type=int, default=None, metavar="N",
              help="With --engine random: the seed of the runs (default 0); the same seed, "
                   "the same runs.")
@click.option("--depth", type=int, default=None,
              help="With --engine bmc: unroll this many steps (a bounded claim: no violation "
                   "up to K is incomplete, never holds).")
@click.option("--find-min-k", is_flag=True,
              help="chain only: the least k for which prefix_consistency holds exhaustively "
                   "(with --out, each smaller k's counterexample is written to DIR/k<j>).")
@click.option("--bfs", is_flag=True,
              help="Breadth-first search (default): counterexamples are shortest.")
@click.option("--dfs", is_flag=True, help="Depth-first search (not with --bfs).")
@click.option("--max-depth", type=int, default=None, help="Do not explore beyond this depth.")
@click.option("--max-states", type=int, default=None, help="Stop after this many distinct states.")
@click.option("--time-limit", type=float, default=None,
              help="Stop after this many seconds (incomplete, exit 3); bounds every engine.")
@click.option("--memory-limit", type=float, default=None, metavar="MB",
              help="Stop cleanly (incomplete, exit 3) once the process's resident memory "
                   "exceeds this many megabytes.")
@click.option("--symmetry", is_flag=True, help="Reduce by the model's symmetry group.")
@click.option("--deadlock", is_flag=True, help="Report states with no enabled transition.")
@click.option("--keep-going", is_flag=True,
              help="Search past violations so that every property gets its own verdict.")
@click.option("--property", "props", multiple=True, metavar="NAME",
              help="Check only these properties (repeatable).")
@click.option("--exact", is_flag=True,
              help="Keep whole states in the visited set instead of 64-bit fingerprints.")
@click.option("--compact", is_flag=True,
              help="For long breadth-first runs (as TLC stores them): fingerprints, parents "
                   "and subsumption's covers in flat tables, each level in a temporary file; "
                   "the same counts, verdicts and traces in a fraction of the memory.")
@click.option("--no-coverage", is_flag=True,
              help="Do not count transitions per action (slightly faster).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write each counterexample as trace.txt/.json/.dot/.svg here.")
@click.option("--json", "as_json", is_flag=False, flag_value="-", default=None, metavar="[FILE]",
              help="The whole result as JSON: on stdout, or into FILE.")
@click.option("--checks", "checks_file", type=click.Path(dir_okay=False), default=None,
              help="Without MODEL: the checks file (default: the nearest paxchain.toml, or "
                   "pyproject.toml with [tool.paxchain], in this directory or one above).")
@click.option("--slow", is_flag=True,
              help="Without MODEL: also run the checks tagged slow = true.")
@click.option("--junit", type=click.Path(dir_okay=False), default=None,
              help="Without MODEL: write a JUnit XML report here.")
@click.option("--summary", type=click.Path(dir_okay=False), default=None,
              help="Without MODEL: write a Markdown summary (for a CI job summary) here.")
@click.option("--artifacts", type=click.Path(file_okay=False), default=None,
              help="Without MODEL: one folder per failed check with its trace in every format.")
@click.option("--workers", "workers_text", default="1", show_default=True, metavar="N|auto",
              help="Search with N processes (auto: one per core), hash-partitioned and "
                   "breadth-first: the same counts, verdicts and traces as one.")
@click.option("--link-base", default=None, metavar="URL",
              help="Without MODEL: the URL where the --artifacts folder is published; the "
                   "--summary links its traces there (absolute, so they open from a CI job "
                   "summary).")
@click.option("--checkpoint", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write the search to DIR every --checkpoint-every seconds and on "
                   "Ctrl-C/SIGTERM (the parallel engine; any --workers).")
@click.option("--checkpoint-every", type=float, default=300.0, show_default=True,
              metavar="SECONDS", help="Seconds between checkpoints.")
@click.option("--resume", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Continue the search checkpointed in DIR (same model and options).")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
              metavar="[ADDRESS]",
              help="Search on Ray: the cluster at ADDRESS (HOST:6379), or without it a local "
                   "Ray for the run; one shard per CPU, or --workers N. The same counts, "
                   "verdicts and traces (pip install 'paxchain[ray]').")
@click.option("--minimize", is_flag=True,
              help="Shorten each counterexample by deleting steps while it still breaks the "
                   "property (depth-first traces; breadth-first ones are already shortest).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def command(model, params, variant, engine, depth, find_min_k, bfs, dfs, max_depth, max_states,
            time_limit, memory_limit, symmetry, deadlock, keep_going, props, exact, compact,
            no_coverage, out, as_json, checks_file, slow, junit, summary, artifacts, link_base, quiet,
            model_option, workers_text, checkpoint, checkpoint_every, resume,
            ray_address, minimize, walks, seed) -> None:
    """Check MODEL's properties by explicit-state search (no MODEL: the checks in
    paxchain.toml)."""
    if model_option is not None:
        if model is not None:
            raise UserError("give the model once: as MODEL or as --model")
        model = model_option
    if bfs and dfs:
        raise UserError("give one of --bfs and --dfs")
    opts = _options("dfs" if dfs else "bfs", max_depth, max_states, time_limit, memory_limit, symmetry,
                    deadlock, keep_going, props, exact, not no_coverage, compact)
    workers = _workers(workers_text)
    if compact and (workers > 1 or checkpoint or resume or ray_address or engine != "explicit"
                    or model is None or dfs or exact):
        raise UserError("--compact is the sequential breadth-first search's storage, for one "
                        "MODEL (not with --dfs, --exact, --workers, --checkpoint, --resume, "
                        "--ray or another engine)")
    if workers > 1 and (engine == "bmc" or find_min_k):
        raise UserError("--workers goes with the explicit engine's search and --engine random "
                        "(not --engine bmc or --find-min-k)")
    if (checkpoint or resume) and (engine != "explicit" or find_min_k):
        raise UserError("--checkpoint and --resume go with the explicit engine's search "
                        "(not --engine bmc, --engine random or --find-min-k)")
    if not math.isfinite(checkpoint_every) or checkpoint_every < 0:
        raise UserError("--checkpoint-every must be a finite number of seconds, not negative")
    saving = (checkpoint, checkpoint_every, resume)
    ray = _ray(ray_address, workers, model is not None and engine == "explicit"
               and not find_min_k)
    if model is None:
        if params or variant:
            raise UserError("--param and --variant need a MODEL")
        if checkpoint or resume:
            raise UserError("--checkpoint and --resume need a MODEL")
        # the gate imports z3 (see _bmc); a search of one model does not
        from paxchain.checker.suite import run_suite

        sys.exit(run_suite(opts, out=out, json_path=as_json, junit_path=junit,
                           summary_path=summary, artifacts_dir=artifacts,
                           checks_file=checks_file, slow=slow, link_base=link_base,
                           search=lambda m, o: _search(m, o, quiet, workers,
                                                       fallback=True)))
    for flag, value in (("--checks", checks_file), ("--junit", junit), ("--summary", summary),
                        ("--artifacts", artifacts), ("--slow", slow or None),
                        ("--link-base", link_base)):
        if value is not None:
            raise UserError(f"{flag} goes with a checks run (no MODEL)")
    if find_min_k:
        sys.exit(_find_min_k(model, params, variant, opts, out))
    m = registry.build(model, parse_pairs(params), variant)
    _known_properties(m, props)  # a typo is bad input before the header is printed
    if engine != "random" and (walks is not None or seed is not None):
        raise UserError("--walks and --seed go with --engine random")
    if engine == "bmc":
        result = _bmc(m, depth, opts, as_json != "-", quiet or as_json == "-")
    elif engine == "random":
        if depth is not None:
            raise UserError("--depth goes with --engine bmc (random runs take --max-depth)")
        result = _random(m, opts, walks, seed, as_json != "-", workers)
    else:
        if depth is not None:
            raise UserError("--depth goes with --engine bmc (the explicit engine takes "
                            "--max-depth)")
        if as_json != "-":
            echo(header_text(m.describe(), opts, m.reductions(), _liveness_selected(m, props)))
            if ray is not None:
                echo(f"  ray: {ray[0] or 'a local Ray'}, "
                     + (f"{ray[1]} shards" if ray[1] else "one shard per CPU")
                     + " (hash-partitioned, level-synchronous BFS)")
            elif workers > 1:
                echo(f"  workers: {workers} processes (hash-partitioned, level-synchronous BFS)")
        result = _search(m, opts, quiet or as_json == "-", workers, saving, ray=ray)
    minimized = _minimize(result) if minimize else []
    verdict(result.exit_code)
    written = _write_traces(result, out) if out else {}
    if as_json and as_json != "-":
        write_atomic(as_json, json.dumps(result.to_json(), indent=1) + "\n")
    if as_json == "-":
        data = result.to_json()
        for p in data["properties"]:
            if p["name"] in written:
                p["files"] = [str(x) for x in written[p["name"]]]
        echo(json.dumps(data, indent=1))
    else:
        echo(summary_text(result))
        for line in minimized:
            echo(line)
        for p in result.violations():
            if p.trace is not None:
                echo("")
                echo(trace_text(p.trace, str(written[p.name][0]) if p.name in written
                                else None), nl=False)
        for name, paths in written.items():
            echo(f"\nwrote {name}: " + ", ".join(str(x) for x in paths))
    sys.exit(result.exit_code)


def _random(model, opts: Options, walks: int | None, seed: int | None,
            announce: bool, workers: int) -> Result:
    """``--engine random``: seeded random runs (``paxchain.checker.random_walk``), shared out
    over ``workers`` processes (the same runs and result for any number)."""
    n, s = walks or random_walk.DEFAULT_WALKS, seed or 0
    d = opts.max_depth if opts.max_depth is not None else random_walk.DEFAULT_DEPTH
    if announce:
        echo(f"Random simulation of {model.describe()}\n  {n:,} runs of up to {d} steps, "
             f"seed {s}{f', {workers} workers' if workers > 1 else ''}; a property no run "
             f"breaks is incomplete, never holds")
    try:
        return random_walk.check(model, opts, n, s, workers)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _minimize(result: Result) -> list[str]:
    """``--minimize``: each violation's trace shortened (``paxchain.checker.steps.shorten``,
    re-executed and 1-minimal); one line per trace saying from how many steps to how many."""
    lines = []
    for p in result.violations():
        if p.trace is None or p.kind in LIVENESS or p.kind == Kind.DEADLOCK:
            continue
        before = len(p.trace.steps) - 1
        p.trace = shorten(p.trace)
        after = len(p.trace.steps) - 1
        lines.append(f"minimized {p.name}: {before} -> {after} steps"
                     + ("" if after < before else " (no step could be deleted)"))
    return lines


def _liveness_selected(model, names) -> bool:
    """Whether the run checks a liveness property (named, or on by default)."""
    return any(p.kind in LIVENESS and (p.name in names if names else not p.opt_in)
               for p in properties_of(model))


def _ray(address: str | None, workers: int, searching: bool) -> tuple | None:
    """``--ray [ADDRESS]``: (address or None, shards or None), or None without it; bad input
    when Ray is missing or the run is not one model's explicit search."""
    if address is None:
        return None
    if not searching:
        raise UserError("--ray goes with one MODEL's explicit search (not the gate, --engine "
                        "bmc or --find-min-k)")
    try:
        load_ray()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    given = click.get_current_context().get_parameter_source("workers_text")
    shards = None if given == click.core.ParameterSource.DEFAULT else workers
    return (None if address == "local" else address, shards)


def _known_properties(model, names) -> None:
    """``--property`` names ``model`` has, else one ``UserError`` naming the nearest."""
    known = sorted(p.name for p in properties_of(model))
    for name in names:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            raise UserError(f"unknown property {name!r} for {model.name}; known: "
                            f"{', '.join(known)}" + (f"; did you mean {near[0]!r}?" if near
                                                      else ""))


def _find_min_k(model: str, params, variant, opts: Options, out: str | None) -> int:
    """The chain's minimal common-prefix k for these bounds; exit 0 found, 3 unknown."""
    if model != "chain":
        raise UserError("--find-min-k applies to the chain model")
    # common_prefix imports z3 for its induction half (see _bmc)
    from paxchain.checker.common_prefix import find_min_k, min_k_report

    values = registry.parse_params(registry.entry("chain"), parse_pairs(params))
    if variant is not None:
        registry.build("chain", parse_pairs(params), variant)  # validates the variant
    k, results = find_min_k(values, replace(opts, progress=None), variant)
    text, code = min_k_report(k, results)
    verdict(code)
    echo(text, nl=False)
    traces = {j: p.trace for j, r in sorted(results.items())
              for p in [r.get("prefix_consistency")]
              if p.trace is not None and p.verdict == VIOLATED}
    if out and traces:
        with staged_dir(out) as stage:
            written = {j: stage.write_trace(trace, f"k{j}") for j, trace in traces.items()}
        for j, paths in written.items():
            echo(f"wrote k={j}: " + ", ".join(str(x) for x in paths))
    return code


def _bmc(model, depth: int | None, opts: Options, announce: bool, quiet: bool) -> Result:
    """Bounded model checking with Z3 (``paxchain.checker.bmc.check``), for models that ship a
    ``specs/<name>_bmc.py``, within ``opts``' time and memory limits; progress on stderr
    unless ``quiet``."""
    # z3 maps about 30 MB of address space when imported (a search under a tight address-space
    # limit would lose it); only --engine bmc needs it
    from paxchain.checker import bmc

    if depth is None or depth < 0:
        raise UserError("--engine bmc needs --depth K (K >= 0)")
    bmc.encoding_module(model.name)  # imports Z3 and the encoding before the announcement
    if announce:
        echo(f"Bounded model checking {model.describe()} with Z3, depth 0..{depth}")
    with progress_reporter(quiet) as (callback, interval):
        try:
            return bmc.check(model, opts.only, depth, time_limit=opts.time_limit,
                             memory_limit=opts.memory_limit, progress=callback,
                             progress_interval=interval)
        except ValueError as exc:
            raise UserError(str(exc)) from None


def _write_traces(result: Result, out: str) -> dict[str, list[Path]]:
    """One folder per violated property (``DIR`` itself when there is just one), all written
    as one set that replaces ``DIR`` whole (``paxchain.checker.outdir``); returns the final paths."""
    broken = [p for p in result.violations() if p.trace is not None]
    if not broken:
        return {}
    with staged_dir(out) as stage:
        return {p.name: stage.write_trace(p.trace, p.name if len(broken) > 1 else "")
                for p in broken}
