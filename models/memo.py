"""Bounded memo tables: caches of pure functions' results, emptied whenever they fill up.

A model memoises what many states share (the abstraction of a history, a property's verdict on
an (outputs, history) pair, a fold of sends into a history id). Each table grows with the
distinct keys met, which over a search of 10**8 states is tens of gigabytes if nothing is ever
dropped. A ``Memo`` empties itself when it reaches ``limit`` entries; an entry dropped is
recomputed at its next use, to the same value (the functions are pure), so only time changes.
A table that must remember everything (an interning table, a premise's record of every handler
call) is not a ``Memo``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Memo", "Memos", "MEMO_LIMIT"]

MEMO_LIMIT = 1 << 19  # entries a table holds before it is emptied: some 100-300 MB at most


class Memo(dict):  # type: ignore[type-arg]
    """A dict used as a cache, emptied when an insertion finds ``limit`` entries there."""

    __slots__ = ("limit",)

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self.limit:
            self.clear()
        dict.__setitem__(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (to a worker process, to Ray) as an empty table with the same limit: a
        cache's entries are recomputed where they are needed, and need not travel."""
        return (type(self), (self.limit,))


class Memos(dict):  # type: ignore[type-arg]
    """Named ``Memo`` tables, each made at its first use (``memos[name]``)."""

    def __missing__(self, name: str) -> Memo:
        table = self[name] = Memo()
        return table
