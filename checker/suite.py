"""The default suite: every model's ``suite`` checks from the registry, each with the verdict
it must give (correct models hold; each seeded bug violates the property it breaks).

``run_suite`` prints one line per check (or JSON) and returns the exit code: 0 when every check
gave its expected verdict, 1 otherwise.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import click

from checker.artifacts import write_trace
from checker.model import Model
from checker.result import HOLDS, VIOLATED, Options, Result

__all__ = ["run_suite"]


def run_suite(base: Options, *, out: str | None, json_path: str | None,
              junit_path: str | None, summary_path: str | None, artifacts_dir: str | None,
              checks_file: str | None, search: Callable[[Model, Options], Result]) -> int:
    """Run every default-suite check; 0 when each gives its expected verdict, else 1.

    ``json_path`` is ``"-"`` for stdout. The reports, artifacts and checks-file arguments are
    not implemented yet (issue 6).
    """
    as_json = json_path == "-"
    from dataclasses import replace

    from models import registry

    rows, failed = [], 0
    checks = [c for e in registry.entries().values() for c in e.suite]
    for i, c in enumerate(checks, start=1):
        m = registry.build(c.model, {k: str(v) for k, v in c.params.items()}, c.variant)
        only = (c.property,) if c.expect == VIOLATED and c.property else base.only
        opts = replace(base, symmetry=c.symmetry or base.symmetry, only=only)
        start = time.monotonic()
        result = search(m, opts)
        seconds = time.monotonic() - start
        if c.expect == VIOLATED:
            got = result.get(c.property).verdict if c.property else result.verdict
            ok = got == VIOLATED
        else:
            got = result.verdict
            ok = got == HOLDS
        failed += not ok
        row = {"check": i, "model": m.describe(), "symmetry": opts.symmetry,
               "expect": c.expect + (f" {c.property}" if c.property else ""),
               "verdict": got, "ok": ok, "distinct": result.stats.distinct,
               "seconds": round(seconds, 3)}
        if out and result.violations():
            row["files"] = [str(x) for x in write_trace(
                result.violations()[0].trace, Path(out) / f"check{i:02d}")]
        rows.append(row)
        if not as_json:
            mark = "ok  " if ok else "FAIL"
            click.echo(f"{mark} {i:2d}. {m.describe()}{' (symmetry)' if opts.symmetry else ''}: "
                       f"expected {row['expect']}, got {got} — {result.stats.distinct:,} states, "
                       f"{seconds:.2f} s")
    if as_json:
        click.echo(json.dumps({"checks": rows, "failed": failed}, indent=1))
    else:
        click.echo(f"\n{len(rows) - failed} of {len(rows)} checks gave their expected verdict.")
    return 1 if failed else 0
