"""A compact visited set: 64-bit fingerprints in one flat open-addressing table.

A Python ``dict`` or ``set`` of int fingerprints costs about 60-100 bytes a state (an int object
and a hash slot, at a third to two thirds full). ``FingerprintSet`` keeps the fingerprints
themselves in a flat array of unsigned 64-bit slots, linear probing, slot 0 meaning empty (the
fingerprint 0 is kept apart, in a flag), grown by half whenever it would pass ``max_load``. With
the defaults (grow at 80 %, by 1.5×) a table is between 53 % and 80 % full, which is 10 to 15
bytes a state: 100 M states in about 1.5 GB. ``bytes_per_state`` measures it.

Insertion works on batches (``add_many``): the parallel engine dedups a whole breadth-first level
at once, and with numpy (used when installed) a batch is probed in a few vectorised rounds —
each round compares every pending fingerprint with its slot, claims empty slots (the first of
those wanting one slot wins, the rest probe on) and moves the others one slot along. Without
numpy the same table is an ``array('Q')`` probed one fingerprint at a time.

Fingerprints are given as Python ints, signed or not (``hash`` and ``digest64`` are signed);
they are stored modulo 2**64.
"""

from __future__ import annotations

import importlib
import importlib.util
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["FingerprintSet", "ParentLog", "ParentMap", "HAVE_NUMPY", "np", "as_int64", "signed64"]

# Without numpy the table falls back to the array module.
HAVE_NUMPY = importlib.util.find_spec("numpy") is not None


class _Numpy:
    """numpy, imported at its first use: importing it maps tens of MB of shared libraries
    (measured: under an 80 MB address space the import itself fails), and only the parallel
    search and a numpy table use it, never a plain check."""

    _module: Any = None

    def __getattr__(self, name: str) -> Any:
        if _Numpy._module is None:
            _Numpy._module = importlib.import_module("numpy")
        return getattr(_Numpy._module, name)


np: Any = _Numpy()
_MASK = (1 << 64) - 1
_HALF = 1 << 63


class FingerprintSet:
    """A growable set of 64-bit fingerprints in a flat open-addressing table.

    >>> s = FingerprintSet()
    >>> s.add_many([5, -1, 5, 0])
    [True, True, False, True]
    >>> len(s), -1 in s, 7 in s
    (3, True, False)
    """

    def __init__(self, capacity: int = 1024, max_load: float = 0.8, grow: float = 1.5,
                 use_numpy: bool | None = None) -> None:
        if not 0.1 <= max_load <= 0.95 or grow <= 1.0:
            raise ValueError("max_load must be in 0.1..0.95 and grow above 1")
        self.numpy = HAVE_NUMPY if use_numpy is None else (use_numpy and HAVE_NUMPY)
        self.max_load, self.grow = max_load, grow
        self._count = 0
        self._zero = False  # whether the fingerprint 0 (the empty mark) is in the set
        self._table: Any = self._new_table(max(8, capacity))

    # -- reading --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        return len(self._table)

    @property
    def nbytes(self) -> int:
        """The table's size in bytes (8 a slot)."""
        return 8 * len(self._table)

    def bytes_per_state(self) -> float:
        return self.nbytes / self._count if self._count else float(self.nbytes)

    def __contains__(self, fp: int) -> bool:
        x = fp & _MASK
        if x == 0:
            return self._zero
        table, cap = self._table, len(self._table)
        i = x % cap
        while True:
            y = int(table[i])
            if y == x:
                return True
            if y == 0:
                return False
            i = i + 1 if i + 1 < cap else 0

    def contains_many(self, fps: Sequence[int]) -> list[bool]:
        if self.numpy:
            return self.contains_array(_as_uint64(list(fps))).tolist()  # type: ignore[no-any-return]
        return [fp in self for fp in fps]

    def contains_array(self, arr: Any) -> Any:
        """Membership of each fingerprint of a numpy int64 or uint64 array, as a bool array,
        probed in vectorised rounds (numpy tables only)."""
        arr = arr.view(np.uint64) if arr.dtype == np.int64 else arr
        found = np.zeros(len(arr), dtype=bool)
        zero = arr == 0
        if self._zero:
            found[zero] = True
        table = self._table
        cap = len(table)
        pending = np.flatnonzero(~zero)
        pos = (arr[pending] % np.uint64(cap)).astype(np.int64)
        while pending.size:
            slot = table[pos]
            hit = slot == arr[pending]
            found[pending[hit]] = True
            go_on = ~hit & (slot != 0)
            pending, pos = pending[go_on], pos[go_on] + 1
            pos[pos == cap] = 0
        return found

    def values(self, signed: bool = False) -> list[int]:
        """Every fingerprint in the set (unsigned, or ``signed`` as ``hash`` gives them), in
        table order: for checkpoints and tests."""
        if self.numpy:
            live = self._table[self._table != 0]
            out = (live.view(np.int64) if signed else live).tolist()
        else:
            out = [x - (1 << 64) if signed and x >> 63 else x for x in self._table if x]
        return out + [0] if self._zero else out

    # -- adding ---------------------------------------------------------------------------
    def add(self, fp: int) -> bool:
        """Add one fingerprint; True when it was not there."""
        return self.add_many([fp])[0]

    def add_many(self, fps: Iterable[int], distinct: bool = False) -> list[bool]:
        """Add a batch; per fingerprint, True when it is new (only its first occurrence in
        the batch counts as new). ``distinct``: the caller promises no repeats in the batch."""
        fps = list(fps)
        self._reserve(len(fps))
        if self.numpy:
            return self._add_numpy(_as_uint64(fps), distinct).tolist()  # type: ignore[no-any-return]
        return [self._add_one(fp & _MASK) for fp in fps]

    def add_array(self, arr: Any, distinct: bool = False) -> Any:
        """``add_many`` for a numpy int64 or uint64 array (numpy tables only): a bool array,
        True where the fingerprint is new."""
        self._reserve(len(arr))
        return self._add_numpy(arr.view(np.uint64) if arr.dtype == np.int64 else arr, distinct)

    def _new_table(self, cap: int) -> Any:
        if self.numpy:
            return np.zeros(cap, dtype=np.uint64)
        return array("Q", [0]) * cap

    def _reserve(self, extra: int) -> None:
        need = self._count + extra
        cap = len(self._table)
        if need <= self.max_load * cap:
            return
        while need > self.max_load * cap:
            cap = int(cap * self.grow) + 1
        old = self._table
        self._table = self._new_table(cap)
        if self.numpy:
            live = old[old != 0]
            self._count -= len(live)
            self._insert_numpy(live, np.zeros(len(live), dtype=bool))
        else:
            for x in old:
                if x:
                    self._count -= 1
                    self._add_one(x)

    def _add_one(self, x: int) -> bool:
        if x == 0:
            new, self._zero = not self._zero, True
            self._count += new
            return new
        table, cap = self._table, len(self._table)
        i = x % cap
        while True:
            y = table[i]
            if y == x:
                return False
            if y == 0:
                table[i] = x
                self._count += 1
                return True
            i = i + 1 if i + 1 < cap else 0

    def _add_numpy(self, arr: Any, distinct: bool) -> Any:
        if not len(arr):
            return np.zeros(0, dtype=bool)
        new = np.zeros(len(arr), dtype=bool)
        zero = arr == 0
        if zero.any():
            if not self._zero:
                self._zero = True
                self._count += 1
                new[int(np.argmax(zero))] = True
        if distinct:
            at = np.flatnonzero(~zero)
        else:  # one probe per distinct fingerprint: its first occurrence in the batch
            _, at = np.unique(arr, return_index=True)
            at = at[arr[at] != 0]
        added = np.zeros(len(at), dtype=bool)
        self._insert_numpy(arr[at], added)
        new[at[added]] = True
        return new

    def _insert_numpy(self, uniq: Any, added: Any) -> None:
        """Insert the distinct non-zero fingerprints ``uniq``; ``added[i]`` set when new."""
        table = self._table
        cap = len(table)
        pos = (uniq % np.uint64(cap)).astype(np.int64)
        pending = np.arange(len(uniq))
        while pending.size:
            p = pos[pending]
            want = uniq[pending]
            slot = table[p]
            empty = slot == 0
            if empty.any():
                # Scatter every claim; where several want one slot the last write stays, and
                # only its writer sees its own value there (the others probe on).
                cp, cw = p[empty], want[empty]
                table[cp] = cw
                won = table[cp] == cw
                idx = pending[empty][won]
                added[idx] = True
                self._count += len(idx)
                slot = table[p]
            move = pending[slot != want]
            pos[move] += 1
            pos[move[pos[move] == cap]] = 0
            pending = move


class ParentMap(dict):
    """The sequential search's visited set by default: key (fingerprint or state) -> its
    parent's key, ``None`` for an initial state; ``ParentLog`` is its compact twin."""

    __slots__ = ()

    def path(self, key: Any) -> list[Any]:
        """The keys from an initial state to ``key``."""
        out = []
        while key is not None:
            out.append(key)
            key = self[key]
        out.reverse()
        return out


class ParentLog:
    """The sequential search's visited set for long runs (``Options.compact``): the mapping
    fingerprint -> parent fingerprint of ``explicit``'s dict, in some 28 bytes a state.

    Membership is a ``FingerprintSet`` (an ``array`` table: one probe is a few list-speed
    reads); the parents are a log of (fingerprint, parent) pairs in discovery order, in chunks
    of signed 64-bit arrays, read only to rebuild a counterexample's path (``path``), by a
    backward scan (numpy's when installed): breadth-first, a parent was found before its child.
    Fingerprints must be ``signed64`` already; each is added once (the search asks first).
    """

    CHUNK = 1 << 20

    def __init__(self) -> None:
        self.set = FingerprintSet(use_numpy=False)
        self.fps: list[array] = [array("q")]
        self.parents: list[array] = [array("q")]
        self.roots: set[int] = set()

    def __len__(self) -> int:
        return len(self.set)

    def __contains__(self, fp: int) -> bool:
        return fp in self.set

    def __setitem__(self, fp: int, parent: int | None) -> None:
        self.set.add(fp)
        if len(self.fps[-1]) == self.CHUNK:
            self.fps.append(array("q"))
            self.parents.append(array("q"))
        self.fps[-1].append(fp)
        if parent is None:
            self.roots.add(fp)
            parent = 0
        self.parents[-1].append(parent)

    @property
    def nbytes(self) -> int:
        return self.set.nbytes + sum(8 * (len(a) + len(b)) for a, b in zip(self.fps, self.parents))

    def path(self, fp: int) -> list[int]:
        """The fingerprints from an initial state to ``fp``, as ``explicit``'s dict gives them."""
        out = [fp]
        where = self._find(fp, (len(self.fps) - 1, len(self.fps[-1])))
        while fp not in self.roots:
            fp = self.parents[where[0]][where[1]]
            where = self._find(fp, where)
            out.append(fp)
        out.reverse()
        return out

    def _find(self, fp: int, before: tuple[int, int]) -> tuple[int, int]:
        """(chunk, index) of ``fp`` in the log, looking back from ``before`` (inclusive)."""
        chunk, end = before
        for c in range(chunk, -1, -1):
            fps = self.fps[c]
            stop = min(end + 1, len(fps)) if c == chunk else len(fps)
            if HAVE_NUMPY:
                hits = np.flatnonzero(np.frombuffer(fps, dtype=np.int64, count=stop) == fp)
                if len(hits):
                    return c, int(hits[-1])
            else:
                try:
                    return c, fps[:stop].index(fp)
                except ValueError:
                    pass
        raise KeyError(fp)


def _as_uint64(fps: list[int]) -> Any:
    """Fingerprints (signed or unsigned ints) as a numpy uint64 array, modulo 2**64."""
    return as_int64(fps).view(np.uint64)


def as_int64(fps: list[int]) -> Any:
    """Fingerprints (any ints) as a numpy int64 array: each one ``signed64``."""
    try:
        return np.array(fps, dtype=np.int64)
    except OverflowError:
        return np.array([signed64(fp) for fp in fps], dtype=np.int64)


def signed64(fp: int) -> int:
    """``fp`` modulo 2**64, as a signed 64-bit int (what ``hash`` and ``digest64`` give): the
    form in which every engine stores, partitions and exchanges a fingerprint."""
    return fp if -_HALF <= fp < _HALF else ((fp + _HALF) & _MASK) - _HALF
