"""The experiments: Paxos and the chain in the seeded simulator, swept over partial failures.

Each ``Experiment`` names its grid (``paxchain.checker.sweep.Axis``), what one run measures
(``run(point, seed)``, a module-level function of the point and the seed only, so a sweep is
deterministic), how a grid point's runs are summarised, and its figures (``Figure``: series of
points, drawn by ``paxchain.checker.experiment_report``). Time is the simulator's time unit
throughout (latencies, timeouts and block intervals are in the same unit).

- ``paxos-timeouts``: two proposers contend; time to decide (median, p90, p99), ballots and
  messages used and the fraction of runs deciding within a deadline, against the retry timeout
  × backoff × latency distribution × loss × a pause of one proposer × clock drift.
- ``chain-forks``: stale-block rate, reorg depth, time to k confirmations and how often a
  block with k confirmations was later reverted (a reorg deeper than k), against the block
  interval × propagation delay × number of miners × one node's clock offset, beside the
  expected stale rate (``stale_expectation``, after Decker and Wattenhofer, 2013).
- ``compare``: both protocols under the same schedules (latency, loss, one node's clock
  offset, a partition that heals): time to finality (Paxos: every learner decided; chain: a
  block is k-deep at every node), the safety outcome (Paxos: agreement; chain: no k-confirmed
  block reverted) and, for the chain, the deepest reorganisation. The partition cuts a
  minority from the rest from ``PARTITION_START`` for ``partition`` time units, then heals:
  Paxos ``{p1, a1, l1} | {p2, a2, a3}`` (the learner on the minority side), the chain
  ``{n1, n2} | {n3, n4, n5}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import fmean
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paxchain.checker.sweep import Axis, by_point, percentile
from paxchain.impl.simulator import Clock, Latency, Partition, Pause
from paxchain.models.chain_driver import ChainScenario
from paxchain.models.chain_driver import observe as chain_observe
from paxchain.models.chain_driver import simulate_scenario as chain_simulate
from paxchain.models.paxos_driver import Scenario, observe, simulate_scenario
from paxchain.specs.paxos_run import check_simulated

__all__ = ["Experiment", "Figure", "EXPERIMENTS", "summary_rows"]

Row = dict[str, Any]

PAXOS_UNTIL = 2000.0     # a Paxos run that has not decided by then counts as undecided
PARTITION_START = 1.0    # compare's partitions start here (before the first round trip)
PAXOS_MINORITY = (("p1", "a1", "l1"), ("p2", "a2", "a3"))
CHAIN_MINORITY = (("n1", "n2"), ("n3", "n4", "n5"))
PAXOS_DEADLINE = 200.0   # "decides within a deadline"
CHAIN_K = 3              # confirmations for the chain's finality


@dataclass(frozen=True)
class Figure:
    """One plot: ``y`` against ``x`` over the summary rows, one line per value of ``lines``,
    taking only the rows that match ``where``. ``analytic`` (optional) maps a summary row to the
    literature's expectation of ``y``, drawn dashed beside the measured line."""

    name: str
    title: str
    x: str
    y: str
    lines: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    analytic: Callable[[Row], float] | None = None
    log_x: bool = False


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    axes: tuple[Axis, ...]
    run: Callable[[Mapping[str, Any], int], Row]
    summarise: Callable[[list[Row]], Row]
    figures: tuple[Figure, ...]
    seeds: int
    findings: Callable[[list[Row]], str]  # what the summary rows show, figures computed from them


def _latency(kind: str, hi: float) -> Latency:
    """``uniform`` on [1, hi], or ``exp``: 1 + exponential with mean hi/2, capped at 4*hi."""
    if kind == "exp":
        return Latency("exp", 1.0, 4 * hi, hi / 2)
    return Latency("uniform", 1.0, hi)


def _mean_latency(kind: str, hi: float) -> float:
    return 1.0 + hi / 2 if kind == "exp" else (1.0 + hi) / 2


# -- Paxos ------------------------------------------------------------------------------------

def paxos_run(point: Mapping[str, Any], seed: int) -> Row:
    """One run of two contending proposers; what it measured."""
    pauses = (Pause("p1", 5.0, float(point["pause"])),) if point.get("pause") else ()
    drift = float(point.get("drift", 0.0))
    clocks = (("p1", Clock(0.0, drift)),) if drift else ()
    sc = Scenario(acceptors=3, proposers=2, learners=1, seed=seed,
                  loss=float(point.get("loss", 0.0)),
                  latency=_latency(point.get("latency", "uniform"), float(point.get("hi", 10))),
                  pauses=pauses, clocks=clocks, timeout=float(point["timeout"]),
                  backoff=float(point.get("backoff", 1.5)), until=PAXOS_UNTIL,
                  partitions=_partition(point, PAXOS_MINORITY))
    result = simulate_scenario(sc)
    run = observe(sc, result)
    verdict = check_simulated(run)
    times = [ds[0][0] for ds in run.decisions.values() if ds]
    decided = bool(times) and len(times) == len(run.decisions)
    return {"decided": decided,
            "time": max(t for t in times if t is not None) if decided else None,
            "ballots": sum(len(b) for b in run.ballots.values()),
            "messages": len(result.sent),
            "safe": verdict.violated is None}


def _paxos_summary(rows: list[Row]) -> Row:
    """Percentiles over *all* runs, an undecided run counting as ``PAXOS_UNTIL`` (so a
    percentile at that value is a lower bound: those runs had not decided when they ended)."""
    times = [r["time"] if r["decided"] else PAXOS_UNTIL for r in rows]
    return {"runs": len(rows),
            "decided": sum(r["decided"] for r in rows) / len(rows),
            "within_deadline": sum(1 for t in times if t <= PAXOS_DEADLINE) / len(rows),
            "median": percentile(times, 50), "p90": percentile(times, 90),
            "p99": percentile(times, 99),
            "ballots": fmean(r["ballots"] for r in rows),
            "messages": fmean(r["messages"] for r in rows),
            "unsafe": sum(not r["safe"] for r in rows)}


_CALM = {"latency": "uniform", "loss": 0.0, "pause": 0.0, "drift": 0.0}


def _at(rows: Sequence[Row], **where: Any) -> Row | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in where.items())), None)


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3g}" if isinstance(x, float) else str(x)


def _paxos_findings(rows: list[Row]) -> str:
    """Safety and progress, in numbers read from the summary rows."""
    runs = sum(r["runs"] for r in rows)
    unsafe = sum(r["unsafe"] for r in rows)
    duel = _at(rows, timeout=min(r["timeout"] for r in rows), backoff=1.0, **_CALM)
    tuned = _at(rows, timeout=20.0, backoff=1.5, **_CALM)
    text = (f"Safety does not depend on timing: {unsafe} of {runs} runs broke agreement or "
            "validity. Progress does. ")
    if duel and tuned:
        text += (f"With the retry timeout at {duel['timeout']:g} (below a round trip of two "
                 f"latencies) and no backoff, the two proposers pre-empt each other: "
                 f"{_fmt(duel['decided'])} of runs decided by {PAXOS_UNTIL:g}, median time to "
                 f"decide {_fmt(duel['median'])} and p99 {_fmt(duel['p99'])} (an undecided run "
                 f"counts as {PAXOS_UNTIL:g}), {_fmt(duel['ballots'])} ballots; "
                 f"at timeout 20 with backoff 1.5: median {_fmt(tuned['median'])}, p99 "
                 f"{_fmt(tuned['p99'])}, {_fmt(tuned['ballots'])} ballots. ")
    return text + ("Backoff ends a duel after a few rounds; a longer timeout avoids it but "
                   "makes every lost message cost a whole timeout.")


PAXOS_TIMEOUTS = Experiment(
    name="paxos-timeouts",
    title="Paxos: how the retry timeout and backoff decide progress",
    axes=(Axis("timeout", (2.5, 5.0, 10.0, 20.0, 40.0), "retry timeout"),
          Axis("backoff", (1.0, 1.5, 2.0), "timeout multiplier per retry"),
          Axis("latency", ("uniform", "exp"), "latency distribution (mean 5.5/6)"),
          Axis("loss", (0.0, 0.2), "message loss probability"),
          Axis("pause", (0.0, 100.0), "p1 paused this long from t=5"),
          Axis("drift", (0.0, 0.5), "p1's clock runs this much fast")),
    run=paxos_run, summarise=_paxos_summary, seeds=20,
    figures=(
        Figure("paxos-median", f"Median time to decide (undecided runs count as "
               f"{PAXOS_UNTIL:g}; no loss, pause, drift)",
               "timeout", "median", "backoff", _CALM, log_x=True),
        Figure("paxos-p99", f"p99 time to decide (undecided runs count as {PAXOS_UNTIL:g}; "
               "no loss, pause, drift)",
               "timeout", "p99", "backoff", _CALM, log_x=True),
        Figure("paxos-ballots", "Ballots used (no loss, no pause, no drift)",
               "timeout", "ballots", "backoff", _CALM, log_x=True),
        Figure("paxos-deadline-loss", f"Fraction deciding within {PAXOS_DEADLINE:g} (loss 0.2)",
               "timeout", "within_deadline", "backoff", {**_CALM, "loss": 0.2}, log_x=True),
    ),
    findings=lambda rows: _paxos_findings(rows))

# -- the chain ---------------------------------------------------------------------------------

def chain_run(point: Mapping[str, Any], seed: int) -> Row:
    """One run of ``nodes`` miners until ``blocks`` blocks are mined; what it measured."""
    offset = float(point.get("offset", 0.0))
    sc = ChainScenario(nodes=int(point.get("nodes", 5)),
                       block_interval=float(point["interval"]),
                       blocks=int(point.get("blocks", 40)),
                       latency=_latency("uniform", float(point.get("hi", 10))),
                       loss=float(point.get("loss", 0.0)), seed=seed, k=CHAIN_K,
                       clocks=(("n1", Clock(offset, 0.0)),) if offset else (),
                       partitions=_partition(point, CHAIN_MINORITY))
    st = chain_observe(sc, chain_simulate(sc))
    mined = len(st.mined)
    deepest = max(st.reorgs, default=0)
    return {"mined": mined, "stale": st.stale, "stale_rate": st.stale / mined if mined else 0.0,
            "forks": st.forks, "max_reorg": deepest,
            "k_reverted": sum(n for d, n in st.reorgs.items() if d >= CHAIN_K),
            "confirm": percentile(st.confirmations, 50),
            "rejected": sum(int(v) for v in st.rejected.values())}


def _partition(point: Mapping[str, Any], groups: tuple[tuple[str, ...], ...]
               ) -> tuple[Partition, ...]:
    """The point's partition (``partition`` time units from ``PARTITION_START``), or none."""
    length = float(point.get("partition", 0.0))
    return (Partition(groups, PARTITION_START, PARTITION_START + length),) if length else ()


def _chain_summary(rows: list[Row]) -> Row:
    confirms = [r["confirm"] for r in rows if r["confirm"] is not None]
    return {"runs": len(rows), "stale_rate": fmean(r["stale_rate"] for r in rows),
            "stale_blocks": sum(r["stale"] for r in rows),
            "max_reorg": max(r["max_reorg"] for r in rows),
            "k_reverted": sum(r["k_reverted"] for r in rows),
            "confirm": percentile(confirms, 50),
            "rejected": fmean(r["rejected"] for r in rows)}


def _chain_findings(rows: list[Row]) -> str:
    """Stale rates against the expectation, reverted k-deep blocks and the skewed miner."""
    runs = sum(r["runs"] for r in rows)
    reverted: dict[float, int] = {}
    for r in rows:
        if r["offset"] == 0.0:
            reverted[r["interval"]] = reverted.get(r["interval"], 0) + r["k_reverted"]
    skewed = [r for r in rows if r["offset"] > 0]
    skewed_reverted = sum(r["k_reverted"] for r in skewed)
    at_every = all(sum(r["k_reverted"] for r in skewed if r["interval"] == t) > 0
                   for t in {r["interval"] for r in skewed})
    parts = []
    for r in rows:
        if r["offset"] == 0.0 and r["nodes"] == 5 and r["interval"] in (
                min(x["interval"] for x in rows), max(x["interval"] for x in rows)):
            parts.append(f"T={r['interval']:g}, latency 1..{r['hi']:g}: measured "
                         f"{_fmt(r['stale_rate'])} ({r['stale_blocks']} stale blocks in "
                         f"{r['runs']} runs), expected {_fmt(stale_expectation(r))}")
    skew = [r["rejected"] for r in rows if r["offset"] > 0]
    calm = [r["rejected"] for r in rows if r["offset"] == 0]
    return ("What propagation delay costs the chain is forks. "
            f"Stale-block rate with 5 miners: {'; '.join(parts)}. Where a point has only a few "
            "stale blocks, its measured rate is a count of a few rare events, not a rate. "
            f"Without clock skew, reorganisations reverted a block with {CHAIN_K} confirmations "
            + ", ".join(f"{n} times at T={t:g}" for t, n in sorted(reverted.items()))
            + f" ({runs // 2} runs each way). A miner whose clock is 9000 ahead (the rules accept "
            f"7200) has its blocks rejected: {_fmt(fmean(skew) if skew else None)} rejections "
            f"per run against {_fmt(fmean(calm) if calm else None)} without skew, and "
            f"{skewed_reverted} blocks with {CHAIN_K} confirmations were reverted in the runs "
            "with that miner" + (", at every interval." if at_every and skewed else "."))


def stale_expectation(row: Row) -> float:
    """The expected stale-block rate p / (1 + p), with p = 1 - exp(-(n-1)/n · Δ/T) the chance
    that a block forks: some *other* miner (a share (n-1)/n of the mining power) finds a block
    in the mean propagation delay Δ before it arrives, at mean block interval T (Decker and
    Wattenhofer, 2013, with the finder's own share left out). Each fork adds one block that
    goes stale, so of all blocks mined a share p / (1 + p) is stale."""
    n = int(row.get("nodes", 5))
    p = 1 - math.exp(-(n - 1) / n * _mean_latency("uniform", float(row.get("hi", 10)))
                     / row["interval"])
    return p / (1 + p)


CHAIN_FORKS = Experiment(
    name="chain-forks",
    title="The chain: forks, reorganisations and confirmations against propagation delay",
    axes=(Axis("interval", (5.0, 10.0, 20.0, 40.0, 80.0, 160.0), "mean block interval T"),
          Axis("hi", (5.0, 20.0), "latency uniform on [1, hi]"),
          Axis("nodes", (3, 5, 10), "miners"),
          Axis("offset", (0.0, 9000.0), "n1's clock ahead by this much (max drift 7200)")),
    run=chain_run, summarise=_chain_summary, seeds=3,
    figures=(
        Figure("chain-stale-hi5", "Stale-block rate, latency 1..5 (dashed: expected)",
               "interval", "stale_rate", "nodes", {"hi": 5.0, "offset": 0.0},
               stale_expectation, log_x=True),
        Figure("chain-stale-hi20", "Stale-block rate, latency 1..20 (dashed: expected)",
               "interval", "stale_rate", "nodes", {"hi": 20.0, "offset": 0.0},
               stale_expectation, log_x=True),
        Figure("chain-confirm", f"Median time until a block is {CHAIN_K}-deep at every node",
               "interval", "confirm", "nodes", {"hi": 20.0, "offset": 0.0}, log_x=True),
        Figure("chain-reorg", "Deepest reorganisation seen (latency 1..20)",
               "interval", "max_reorg", "nodes", {"hi": 20.0, "offset": 0.0}, log_x=True),
    ),
    findings=lambda rows: _chain_findings(rows))

# -- both, under the same schedules ---------------------------------------------------------------

def compare_run(point: Mapping[str, Any], seed: int) -> Row:
    """The same schedule for both protocols; each one's finality time and safety."""
    common = {"latency": "uniform", "hi": point["hi"], "loss": point["loss"],
              "partition": point.get("partition", 0.0)}
    px = paxos_run({**common, "timeout": 4 * float(point["hi"]), "backoff": 1.5,
                    "drift": 0.0, "pause": 0.0}, seed)
    ch = chain_run({**common, "interval": point["interval"], "nodes": 5, "blocks": 15,
                    "offset": point["offset"]}, seed)
    return {"paxos_final": px["time"], "paxos_decided": px["decided"], "paxos_safe": px["safe"],
            "chain_final": ch["confirm"], "chain_safe": ch["k_reverted"] == 0,
            "chain_stale": ch["stale_rate"], "chain_reorg": ch["max_reorg"]}


def _compare_summary(rows: list[Row]) -> Row:
    return {"runs": len(rows),
            "paxos_final": percentile([PAXOS_UNTIL if r["paxos_final"] is None
                                       else r["paxos_final"] for r in rows], 50),
            "paxos_decided": sum(r["paxos_decided"] for r in rows) / len(rows),
            "paxos_unsafe": sum(not r["paxos_safe"] for r in rows),
            "chain_final": percentile([r["chain_final"] for r in rows
                                       if r["chain_final"] is not None], 50),
            "chain_unsafe": sum(not r["chain_safe"] for r in rows),
            "chain_stale": fmean(r["chain_stale"] for r in rows),
            "chain_reorg": max(r["chain_reorg"] for r in rows)}


COMPARE = Experiment(
    name="compare",
    title="Paxos and the chain under the same faults",
    axes=(Axis("hi", (5.0, 20.0, 80.0), "latency uniform on [1, hi]"),
          Axis("loss", (0.0, 0.1, 0.3), "message loss probability"),
          Axis("offset", (0.0, 9000.0), "one node's clock ahead by this much"),
          Axis("interval", (40.0,), "the chain's mean block interval"),
          Axis("partition", (0.0, 400.0), "a minority cut off for this long, then healed")),
    run=compare_run, summarise=_compare_summary, seeds=5,
    figures=(
        Figure("compare-paxos", "Paxos: median time to decide (timeout 4×hi, backoff 1.5)",
               "hi", "paxos_final", "loss", {"offset": 0.0, "partition": 0.0}),
        Figure("compare-chain", f"Chain: median time to {CHAIN_K} confirmations (T = 40)",
               "hi", "chain_final", "loss", {"offset": 0.0, "partition": 0.0}),
        Figure("compare-chain-stale", "Chain: stale-block rate (T = 40)",
               "hi", "chain_stale", "loss", {"offset": 0.0, "partition": 0.0}),
        Figure("compare-partition-paxos", "Paxos: median time to decide, a minority cut off "
               "for 0 or 400 (no loss)", "hi", "paxos_final", "partition",
               {"offset": 0.0, "loss": 0.0}),
        Figure("compare-partition-chain", "Chain: deepest reorganisation, a minority cut off "
               "for 0 or 400 (no loss)", "hi", "chain_reorg", "partition",
               {"offset": 0.0, "loss": 0.0}),
    ),
    findings=lambda rows: _compare_findings(rows))

def _compare_findings(rows: list[Row]) -> str:
    runs = sum(r["runs"] for r in rows)
    px_unsafe = sum(r["paxos_unsafe"] for r in rows)
    ch_unsafe = sum(r["chain_unsafe"] for r in rows)
    calm = _at(rows, hi=min(r["hi"] for r in rows), loss=0.0, offset=0.0, partition=0.0)
    text = (f"Safety: Paxos broke agreement in {px_unsafe} of {runs} runs; the chain reverted a "
            f"block with {CHAIN_K} confirmations in {ch_unsafe}. ")
    if calm:
        text += (f"Finality at latency 1..{calm['hi']:g} without loss: Paxos decides in "
                 f"{_fmt(calm['paxos_final'])} (a few round trips, and a decision is final), "
                 f"the chain needs {_fmt(calm['chain_final'])} (until {CHAIN_K - 1} more blocks are "
                 f"built on it, at a mean interval of {calm['interval']:g}). ")
    text += ("Loss delays Paxos by retry timeouts; delay close to the block interval "
             "makes the chain fork (its stale rate) and revert. A skewed clock does not "
             "touch Paxos (its timeouts are relative) but gets that node's blocks rejected. ")
    cut = [r for r in rows if r.get("partition")]
    whole = [r for r in rows if not r.get("partition")]
    if cut and whole:
        text += (f"With a minority cut off for {cut[0]['partition']:g} and then healed, Paxos "
                 f"decides for every learner in a median of "
                 f"{_fmt(percentile([r['paxos_final'] for r in cut], 50))} against "
                 f"{_fmt(percentile([r['paxos_final'] for r in whole], 50))} without (the "
                 "minority's learner hears of the decision only after the heal: it stalls, and "
                 "nothing it sees is ever taken back), and it broke agreement in "
                 f"{sum(r['paxos_unsafe'] for r in cut)} of those runs; the chain keeps mining "
                 "on both sides, forks, and reorganises at the heal: its deepest "
                 f"reorganisation is {max(r['chain_reorg'] for r in cut)} blocks against "
                 f"{max(r['chain_reorg'] for r in whole)} without, and it reverted a block with "
                 f"{CHAIN_K} confirmations in {sum(r['chain_unsafe'] for r in cut)} of those "
                 "runs.")
    return text


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (PAXOS_TIMEOUTS, CHAIN_FORKS, COMPARE)}


def summary_rows(exp: Experiment, rows: Sequence[Row]) -> list[Row]:
    """One row per grid point: the point and ``exp.summarise`` of its runs."""
    return [{**point, **exp.summarise(runs)} for point, runs in by_point(rows, exp.axes) if runs]
