"""Checkpoints of the parallel engine: a search written down between two levels, and resumed.

``paxchain check MODEL --checkpoint DIR`` writes ``DIR/checkpoint.pkl`` every
``--checkpoint-every`` seconds (default 300) and when the run is interrupted (Ctrl-C or SIGTERM:
the level under way is finished first; a second Ctrl-C stops at once, keeping the previous
checkpoint). ``--resume DIR`` continues from it and ends with the counts and verdicts of an
uninterrupted run. A checkpoint is taken at a level boundary, where the search is fully
described by:

- per worker: its visited fingerprints, its (fingerprint, parent) log per level and its share of
  the frontier (rank, fingerprint, state packed by the portable codec);
- the coordinator's statistics, coverage and depth, and for each decided property its verdict
  and the fingerprint path of its trace (rebuilt from the model on resume).

The file is written atomically (a temporary file in ``DIR``, flushed, then renamed over the
old one), so a run killed at any moment — SIGKILL included — leaves the previous checkpoint or
the new one whole. Resuming checks that the model, its parameters and the search options are
those of the checkpoint, and that the model's fingerprints are those the checkpoint was written
with: a model whose fingerprints depend on the interpreter's string-hash seed needs the same
``PYTHONHASHSEED`` (the checkpoint records the one it ran with). Workers' shares are regrouped by
fingerprint, so a run may resume with another number of workers.

A resumed run's seconds include those of the run that wrote the checkpoint; its time limit
counts from the resume. A checkpoint is a pickle: resume only checkpoints you wrote.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from paxchain.checker.files import write_atomic
from paxchain.checker.result import Options

__all__ = ["FILE", "FORMAT", "save", "load", "options_key", "regroup"]

FILE = "checkpoint.pkl"
FORMAT = ("paxchain-checkpoint", 1)
# Options that change what a search finds; the rest (time and memory limits, progress) may
# differ between the run that wrote a checkpoint and the one that resumes it.
_SAME = ("strategy", "max_depth", "max_states", "symmetry", "deadlock", "keep_going",
         "fingerprints", "only", "coverage")


def options_key(options: Options) -> tuple:
    return tuple((name, getattr(options, name)) for name in _SAME)


def save(directory: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` as ``DIR/checkpoint.pkl``, atomically."""
    blob = pickle.dumps({"format": FORMAT, **data}, protocol=pickle.HIGHEST_PROTOCOL)
    return write_atomic(Path(directory) / FILE, blob)


def load(directory: str | os.PathLike[str], model_desc: str, options: Options,
         keys: list[int]) -> dict[str, Any]:
    """Read ``DIR/checkpoint.pkl`` and check it belongs to this search (``ValueError``, one
    line, when it does not); ``keys`` are this process's fingerprints of the initial states."""
    path = Path(directory) / FILE
    try:
        data = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValueError(f"--resume {directory}: no {FILE} there") from None
    except Exception as exc:
        raise ValueError(f"--resume {directory}: {FILE} is not readable ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"--resume {directory}: {FILE} is not a paxchain checkpoint "
                         f"of format {FORMAT[1]}")
    if data["model"] != model_desc:
        raise ValueError(f"--resume {directory}: the checkpoint is of {data['model']}, "
                         f"not {model_desc}")
    if data["options"] != options_key(options):
        raise ValueError(f"--resume {directory}: the search options differ from the "
                         "checkpoint's (bounds, symmetry, deadlock, keep-going, properties)")
    if data["initial_keys"] != keys:
        seed = data.get("hash_seed")
        raise ValueError(f"--resume {directory}: this model's fingerprints differ from the "
                         "checkpoint's (they depend on the string-hash seed); run with "
                         f"PYTHONHASHSEED={seed if seed is not None else '<the same seed>'}")
    return data


def regroup(parts: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Workers' saved shares (visited fingerprints, parent logs per level, frontier) regrouped
    for ``n`` workers: each item goes to the worker that owns its fingerprint."""
    out: list[dict[str, Any]] = [{"visited": [], "parents": [], "frontier": []}
                                 for _ in range(n)]
    depths = max((len(p["parents"]) for p in parts), default=0)
    for o in out:
        o["parents"] = [([], []) for _ in range(depths)]
    for p in parts:
        for fp in p["visited"]:
            out[fp % n]["visited"].append(fp)
        for d, (fps, parents) in enumerate(p["parents"]):
            for fp, parent in zip(fps, parents):
                fps_out, parents_out = out[fp % n]["parents"][d]
                fps_out.append(fp)
                parents_out.append(parent)
        for item in p["frontier"]:
            out[item[1] % n]["frontier"].append(item)
    # A frontier state's rank is its place in the whole level (a checkpoint of format 1 kept
    # the rank it was generated with, which orders the level as well): renumbered 0, 1, ...
    ranks = sorted(item[0] for o in out for item in o["frontier"])
    place = {r: i for i, r in enumerate(ranks)}
    for o in out:
        o["frontier"] = sorted(((place[r], f, t) for r, f, t in o["frontier"]),
                               key=lambda x: x[0])
    return out
