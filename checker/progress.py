"""Progress while a search runs: a live rich line on a terminal, plain lines otherwise.

Both write to stderr so stdout stays clean for results (and for ``--json``).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from checker.result import Stats

__all__ = ["progress_reporter"]


def _line(stats: Stats) -> str:
    return (f"{stats.generated:,} generated, {stats.distinct:,} distinct, "
            f"{stats.queue:,} queued, depth {stats.depth}, {stats.seconds:.0f} s, "
            f"{stats.states_per_second:,.0f} states/s")


@contextmanager
def progress_reporter(quiet: bool = False, interval_plain: float = 5.0
                      ) -> Iterator[tuple[Callable[[Stats], None] | None, float]]:
    """Yield ``(callback, interval)`` for ``Options.progress``; None when quiet."""
    if quiet:
        yield None, 1.0
        return
    if sys.stderr.isatty():
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
