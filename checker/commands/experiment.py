"""``paxchain experiment NAME``: sweep a grid of partial failures in the seeded simulator.

``NAME`` is ``paxos-timeouts``, ``chain-forks`` or ``compare`` (``paxchain.checker.experiments``
says what each sweeps and measures). Runs go to ``--jobs`` worker processes; the results are the
same for the same ``--seeds`` whatever the number of jobs. The report (CSV, JSON, PNG, SVG,
HTML: ``paxchain.checker.experiment_report``) goes to ``--out``. Exit 0 when every run finished
and the report was written; 3 when interrupted (nothing is written); 2 on bad input.
"""

from __future__ import annotations

import os
import shlex
import sys

import click

from paxchain.checker.cli import echo, verdict
from paxchain.checker.experiments import EXPERIMENTS
from paxchain.checker.sweep import grid_points, sweep
from paxchain.models.errors import UserError

__all__ = ["command"]


@click.command("experiment")
@click.argument("name", type=click.Choice(list(EXPERIMENTS)))
@click.option("--seeds", type=click.IntRange(min=1), default=None, metavar="N",
              help="Runs per grid point (default: the experiment's own, see --help of each).")
@click.option("--jobs", default="auto", show_default=True, metavar="N|auto",
              help="Worker processes (auto: one per core).")
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Where to write the report (default: experiments/NAME).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(name: str, seeds: int | None, jobs: str, out: str | None, quiet: bool) -> None:
    """Sweep NAME's grid over many seeds and write CSV, JSON, plots and an HTML page."""
    exp = EXPERIMENTS[name]
    if jobs == "auto":
        n_jobs = os.cpu_count() or 1
    elif jobs.isdigit() and int(jobs) >= 1:
        n_jobs = int(jobs)
    else:
        raise UserError(f"--jobs takes a positive whole number or auto, not {jobs!r}")
    n_seeds = seeds or exp.seeds
    out_dir = out or os.path.join("experiments", name)
    points = len(grid_points(exp.axes))
    meta = {"experiment": name, "seeds": n_seeds, "points": points, "runs": points * n_seeds,
            "grid": {a.name: list(a.values) for a in exp.axes},
            "command": shlex.join(["paxchain", "experiment", name, "--seeds", str(n_seeds),
                                   "--out", out_dir])}
    from paxchain.checker.experiment_report import write_report  # imports matplotlib: late

    try:
        if quiet or not sys.stderr.isatty():
            rows = sweep(exp.run, exp.axes, n_seeds, n_jobs)
        else:
            from rich.progress import Progress  # only for a terminal

            with Progress(transient=True) as bar:
                task = bar.add_task(f"{name}: {points} points × {n_seeds} seeds",
                                    total=points * n_seeds)
                rows = sweep(exp.run, exp.axes, n_seeds, n_jobs,
                             lambda done, total: bar.update(task, completed=done))
    except KeyboardInterrupt:
        verdict(3)
        echo("paxchain: interrupted: no report written", err=True)
        raise SystemExit(3) from None
    written = write_report(exp, rows, out_dir, meta)
    verdict(0)
    echo(f"{name}: {points} points × {n_seeds} seeds = {len(rows)} runs; "
         f"wrote {len(written)} files to {out_dir} (open {os.path.join(out_dir, 'index.html')})")
