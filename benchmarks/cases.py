"""The shared driver of the case-based benchmarks (``paxos_system.py``, ``chain_system.py``).

Each case runs in a fresh Python process (so its peak memory is its own) and appends or replaces
its row in the benchmark's JSON file, written atomically; the 1-minute load average is recorded
beside it, because the figures depend on what else the machine was doing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from collections.abc import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent


def main(script: str, doc: str, cases: Iterable[str], run_case: Callable[[str, float], dict],
         out: Path) -> None:
    """Parse the command line of ``script`` and run its cases."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per case")
    ap.add_argument("--case", help=argparse.SUPPRESS)  # one case, in this process
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.time_limit)))
        return
    rows = json.loads(out.read_text()) if out.exists() else []
    for name in cases:
        if args.only not in name:
            continue
        proc = subprocess.run([sys.executable, script, "--case", name,
                               "--time-limit", str(args.time_limit)],
                              capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr}", file=sys.stderr)
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["load_average_1m"] = round(os.getloadavg()[0], 2)
        print(json.dumps(row), flush=True)
        rows = [r for r in rows if r.get("case") != name] + [row]
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(rows, indent=1) + "\n")
        os.replace(tmp, out)
