"""A breadth-first level: the states found at one depth with their fingerprints, in the order
found, appended while the level before is expanded and then read back once, in that order.

``ListLevel`` keeps them in memory; ``SpilledLevel`` (``Options.compact``) writes them to an
unnamed temporary file in pickled batches as they come and reads them back batch by batch, as
TLC's disk queue does, so a level of ten million states costs one batch of memory.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Hashable, Iterator
from typing import Any

__all__ = ["ListLevel", "SpilledLevel"]


class ListLevel:
    """A level in two lists."""

    def __init__(self) -> None:
        self.states: list[Any] = []
        self.fps: list[Hashable] = []

    def append(self, state: Any, fp: Hashable) -> None:
        self.states.append(state)
        self.fps.append(fp)

    def __len__(self) -> int:
        return len(self.states)

    def __iter__(self) -> Iterator[tuple[Any, Hashable]]:
        return zip(self.states, self.fps)

    def close(self) -> None:
        self.states, self.fps = [], []


class SpilledLevel:
    """A level in a temporary file (in ``directory``, or the system's), removed when closed."""

    BATCH = 4096

    def __init__(self, directory: str | None = None) -> None:
        self.file = tempfile.TemporaryFile(dir=directory, prefix="paxchain-level-")
        self.count = 0
        self.states: list[Any] = []
        self.fps: list[Hashable] = []

    def append(self, state: Any, fp: Hashable) -> None:
        self.states.append(state)
        self.fps.append(fp)
        self.count += 1
        if len(self.states) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.states:
            pickle.dump((self.states, self.fps), self.file, pickle.HIGHEST_PROTOCOL)
            self.states, self.fps = [], []

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[Any, Hashable]]:
        self._flush()
        self.file.seek(0)
        while True:
            try:
                states, fps = pickle.load(self.file)
            except EOFError:
                return
            yield from zip(states, fps)

    def close(self) -> None:
        self.states, self.fps = [], []
        self.file.close()
