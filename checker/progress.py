"""Progress while a search runs: a live rich line on a terminal, plain lines otherwise, each
fitted to the width (never wrapped) and showing depth, states, states per breadth-first level,
rate and resident memory; and the process's resident memory, which engines read at their clock
ticks for ``--memory-limit``.

Progress writes to stderr so stdout stays clean for results (and for ``--json``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from collections.abc import Callable, Iterator

from paxchain.checker.result import Stats
from paxchain.models.errors import UserError

try:
    import resource
except ImportError:  # not POSIX: resident_mb has only /proc to read
    resource = None  # type: ignore[assignment]

__all__ = ["progress_reporter", "progress_label", "fit", "resident_mb", "over_memory"]

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


def near_address_limit(share: float = 0.9, pid: int | str = "self") -> bool:
    """True when this process has an address-space limit (``ulimit -v``, ``prlimit --as``) and
    the virtual size of process ``pid`` (this one, or a child forked under the same limit) has
    passed ``share`` of it. Near that limit the allocator may go on failing and retrying system
    calls without ever raising ``MemoryError`` (seen once: a test's child crawled for 13
    minutes at 78 of 80 MB), so the search stops there as *out of memory* instead."""
    global _AS_LIMIT
    if _AS_LIMIT is None:
        try:
            import resource  # POSIX only, as in resident_mb: read once, on the first call
            soft = resource.getrlimit(resource.RLIMIT_AS)[0]
            _AS_LIMIT = 0 if soft == resource.RLIM_INFINITY else soft
        except (ImportError, OSError, ValueError):
            _AS_LIMIT = 0
    if not _AS_LIMIT:
        return False
    try:
        with open(f"/proc/{pid}/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return False
    return size > share * _AS_LIMIT


_AS_LIMIT: int | None = None  # the address-space limit in bytes (0: none), read once


def over_memory(limit_mb: float | None) -> bool:
    """True when ``limit_mb`` is set and the resident memory exceeds it."""
    return limit_mb is not None and resident_mb() > limit_mb


class _Levels:
    """States per breadth-first level, read from the search's own progress calls.

    The sequential breadth-first engine calls ``progress`` (with ``progress_interval`` 0) at
    the first state of every level, before expanding it: then ``distinct`` counts every state
    up to and including this level, and ``queue`` is this level's size. That is recognisable —
    ``distinct - queue`` equals the ``distinct`` seen at the previous level's first call — and
    only then are levels recorded; a search that reports otherwise (depth-first, another engine,
    a coarser interval) fails the test at its first level and shows no level counts, never
    wrong ones."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.before = 0          # distinct states in the levels before the next one
        self.exact = True

    def see(self, stats: Stats) -> None:
        if not self.exact or stats.depth < len(self.sizes):
            return
        if stats.depth == len(self.sizes) and stats.distinct - stats.queue == self.before:
            self.sizes.append(stats.queue)
            self.before = stats.distinct
        else:
            self.exact = False

    def text(self) -> str | None:
        """``"level 12: 4,567 (x1.42)"``: the newest level's size and its growth."""
        if not self.exact or not self.sizes:
            return None
        d, n = len(self.sizes) - 1, self.sizes[-1]
        growth = f" (x{n / self.sizes[-2]:.2f})" if d and self.sizes[-2] else ""
        return f"level {d}: {n:,}{growth}"


def _fields(stats: Stats | str, levels: _Levels) -> list[str]:
    """The progress line's fields, most important first (a narrow line keeps a prefix)."""
    if isinstance(stats, str):  # an engine's own line (bounded model checking)
        return [stats]
    fields = [f"depth {stats.depth}", f"{stats.distinct:,} distinct"]
    level = levels.text()
    if level:
        fields.append(level)
    fields += [f"{resident_mb():,.0f} MB", f"{stats.states_per_second:,.0f} states/s",
               f"{stats.seconds:.0f} s", f"queue {stats.queue:,}",
               f"{stats.generated:,} generated"]
    return fields


def fit(fields: list[str], width: int, sep: str = " · ") -> str:
    """As many of ``fields`` as fit in ``width`` columns, in order; the first is cut with
    ``…`` when even it does not fit."""
    line = ""
    for f in fields:
        candidate = f if not line else line + sep + f
        if len(candidate) > width:
            break
        line = candidate
    if not line and fields:
        line = fields[0][:max(width - 1, 0)] + "…"
    return line


_label: ContextVar[str] = ContextVar("paxchain_progress_label", default="")


@contextmanager
def progress_label(text: str) -> Iterator[None]:
    """Put ``text`` (the gate's ``[3/36] check-name``) at the head of every progress line
    shown inside the block."""
    token = _label.set(text)
    try:
        yield
    finally:
        _label.reset(token)


def _width() -> int:
    """The terminal's width, else ``$COLUMNS``, else 80; at most a line of 80 columns is
    ever assumed off a terminal."""
    return shutil.get_terminal_size((80, 24)).columns


@contextmanager
def progress_reporter(quiet: bool = False, interval_plain: float = 5.0,
                      interval_live: float = 0.25
                      ) -> Iterator[tuple[Callable[[Stats], None] | None, float]]:
    """Yield ``(callback, interval)`` for ``Options.progress``; None when quiet. The callback
    takes the search's ``Stats``, or a line of text.

    The engine is asked to call at every opportunity (interval 0: a few calls per thousand
    states) so that breadth-first levels can be counted exactly (``_Levels``); the callback
    itself shows a line at most every ``interval_live`` seconds on a terminal (one live line,
    cut to the terminal's width, never wrapped) and every ``interval_plain`` seconds otherwise
    (``progress: ...`` lines of at most 80 columns, or ``$COLUMNS``). Each line shows the
    depth, distinct states, the newest level's size and growth, the process's resident
    memory, the rate, the time, the queue and the states generated — as many as fit, in that
    order — after the gate's label (``progress_label``)."""
    if quiet:
        yield None, 1.0
        return
    levels = _Levels()
    last = [time.monotonic()]

    def due(every: float) -> bool:
        now = time.monotonic()
        if now - last[0] < every:
            return False
        last[0] = now
        return True

    def fields(stats: Stats | str) -> list[str]:
        label = _label.get()
        return ([label] if label else []) + _fields(stats, levels)

    if sys.stderr.isatty():
        # rich costs about 20 ms to import and every engine imports this module; only a live
        # line on a terminal needs it
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        console = Console(stderr=True)
        with Live(Text("starting…", no_wrap=True), console=console, transient=True,
                  refresh_per_second=4) as live:
            def update(stats: Stats | str) -> None:
                if not isinstance(stats, str):
                    levels.see(stats)
                if due(interval_live):
                    live.update(Text(fit(fields(stats), console.width - 1), no_wrap=True,
                                     overflow="ellipsis"))
            yield update, 0.0
        return

    def plain(stats: Stats | str) -> None:
        if not isinstance(stats, str):
            levels.see(stats)
        if due(interval_plain):
            line = fit(fields(stats), _width() - len("progress: "))
            print(f"progress: {line}", file=sys.stderr, flush=True)

    yield plain, 0.0
