"""Progress while a search runs: a live rich line on a terminal, plain lines otherwise; and
the process's resident memory, which engines read at their clock ticks for ``--memory-limit``.

Progress writes to stderr so stdout stays clean for results (and for ``--json``).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from paxchain.checker.result import Stats
from paxchain.models.errors import UserError

try:
    import resource
except ImportError:  # not POSIX: resident_mb has only /proc to read
    resource = None  # type: ignore[assignment]

__all__ = ["progress_reporter", "resident_mb", "over_memory"]

try:
    _PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2.0 ** 20
except (AttributeError, ValueError, OSError):  # not a POSIX system
    _PAGE_MB = 0.0


def resident_mb() -> float:
    """The process's resident memory now, in megabytes (``/proc/self/statm``); where that file
    does not exist, the peak so far (``resource.getrusage``), which only errs towards stopping."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        if resource is None:
            raise UserError("--memory-limit needs /proc/self/statm or getrusage (POSIX); "
                            "neither is here") from None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2.0 ** 20 if sys.platform == "darwin" else peak / 1024.0


def over_memory(limit_mb: float | None) -> bool:
    """True when ``limit_mb`` is set and the resident memory exceeds it."""
    return limit_mb is not None and resident_mb() > limit_mb


def _line(stats: Stats | str) -> str:
    if isinstance(stats, str):  # an engine's own line (bounded model checking)
        return stats
    return (f"{stats.generated:,} generated, {stats.distinct:,} distinct, "
            f"{stats.queue:,} queued, depth {stats.depth}, {stats.seconds:.0f} s, "
            f"{stats.states_per_second:,.0f} states/s")


@contextmanager
def progress_reporter(quiet: bool = False, interval_plain: float = 5.0
                      ) -> Iterator[tuple[Callable[[Stats], None] | None, float]]:
    """Yield ``(callback, interval)`` for ``Options.progress``; None when quiet. The callback
    takes the search's ``Stats``, or a line of text."""
    if quiet:
        yield None, 1.0
        return
    if sys.stderr.isatty():
        # rich costs about 20 ms to import and every engine imports this module; only a live
        # line on a terminal needs it
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        console = Console(stderr=True)
        with Live(Text("starting…"), console=console, transient=True,
                  refresh_per_second=4) as live:
            yield (lambda stats: live.update(Text(_line(stats)))), 0.25
        return

    def plain(stats: Stats) -> None:
        print(f"progress: {_line(stats)}", file=sys.stderr, flush=True)

    yield plain, interval_plain
