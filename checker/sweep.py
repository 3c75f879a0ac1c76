"""Parameter sweeps: a grid of points, many seeds each, run in parallel, deterministically.

``sweep(run, grid, seeds, jobs)`` calls ``run(point, seed)`` for every point of the grid (the
product of the axes, in order) and every seed ``0..seeds-1``, on ``jobs`` worker processes, and
returns one row per run — the point, the seed and what ``run`` measured — in grid-then-seed
order whatever the scheduling: the rows depend only on ``run``, the grid and the seeds. ``run``
must be a module-level function (it is sent to the workers by name) and must draw every random
choice from its seed.

``summarise(rows, metric)`` gives the usual figures of one metric over a point's runs.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["Axis", "grid_points", "sweep", "percentile", "by_point"]

Row = dict[str, Any]


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its name (a column of the results) and its values, in order."""

    name: str
    values: tuple[Any, ...]
    doc: str = ""


def grid_points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    return [dict(zip((a.name for a in axes), combo))
            for combo in itertools.product(*(a.values for a in axes))]


def _call(job: tuple[Callable[[Mapping[str, Any], int], Row], dict[str, Any], int]) -> Row:
    run, point, seed = job
    return {**point, "seed": seed, **run(point, seed)}


def sweep(run: Callable[[Mapping[str, Any], int], Row], axes: Sequence[Axis], seeds: int,
          jobs: int | None = None, progress: Callable[[int, int], None] | None = None) -> list[Row]:
    """One row per (point, seed), in grid-then-seed order (module docstring). ``progress(done,
    total)`` is called as runs finish."""
    jobs_list = [(run, p, s) for p in grid_points(axes) for s in range(seeds)]
    total = len(jobs_list)
    workers = max(1, min(jobs or os.cpu_count() or 1, total))
    rows: list[Row] = []
    if workers == 1:
        for i, job in enumerate(jobs_list, 1):
            rows.append(_call(job))
            if progress:
                progress(i, total)
        return rows
    ctx = multiprocessing.get_context("spawn")  # no forked copies of the parent's state
    with ctx.Pool(workers) as pool:
        for i, row in enumerate(pool.imap(_call, jobs_list, chunksize=4), 1):
            rows.append(row)
            if progress:
                progress(i, total)
    return rows


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def by_point(rows: Iterable[Row], axes: Sequence[Axis]) -> list[tuple[dict[str, Any], list[Row]]]:
    """The rows grouped by grid point, in grid order."""
    names = [a.name for a in axes]
    groups: dict[tuple, list[Row]] = {}
    for r in rows:
        groups.setdefault(tuple(r[n] for n in names), []).append(r)
    return [(p, groups.get(tuple(p[n] for n in names), [])) for p in grid_points(axes)]
