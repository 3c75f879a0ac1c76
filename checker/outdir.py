"""Output folders that land whole: every file of one run, or none of them.

``staged_dir(target)`` gives a fresh temporary sibling folder to write the whole set into;
when the ``with`` block ends without an exception, that folder *replaces* ``target`` by renames
(the old folder is moved aside, the new one moved in, the old one deleted), so a reader — or a
second run writing the same ``--out`` at the same time — never sees files of two runs mixed in
one folder. On an exception the staged folder is deleted and ``target`` is left as it was.

Replacing deletes what was there, so only a folder that holds nothing but output files is
replaced: one that does not exist, an empty one, or one whose files all have the suffixes of
paxchain's trace sets (``OUTPUT_SUFFIXES``: traces, drawings, temporary files; and the
``.test.py`` of a trace's pasteable test), directly or in
subfolders one level down. Any other existing folder (a source tree, ``.``) is bad input (``UserError``) and
is left untouched.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING

from paxchain.checker.artifacts import write_trace
from paxchain.checker.files import write_atomic
from paxchain.checker.render_text import trace_text
from paxchain.models.errors import UserError

if TYPE_CHECKING:
    from paxchain.checker.trace import Trace

__all__ = ["staged_dir", "Staging", "OUTPUT_SUFFIXES"]

OUTPUT_SUFFIXES = frozenset({".json", ".txt", ".dot", ".svg", ".html", ".tmp"})
OUTPUT_TESTS = ".test.py"  # a trace's pasteable test; other .py files are never paxchain's
_ATTEMPTS = 20  # renames lost to a concurrent writer before giving up


class Staging:
    """The temporary folder ``path`` being filled, and where its files will end up."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = path, target

    def final(self, written: str | os.PathLike[str]) -> Path:
        """Where a file written under ``path`` will be once the folder is in place."""
        return self.target / Path(written).relative_to(self.path)

    def write_trace(self, trace: Trace, sub: str = "", stem: str = "trace") -> list[Path]:
        """``paxchain.checker.artifacts.write_trace`` into ``path/sub``; returns the *final* paths, and
        the text file's replay hint names the final ``.json``, not the staged one."""
        folder = self.path / sub
        written = write_trace(trace, folder, stem)
        write_atomic(folder / f"{stem}.txt",
                     trace_text(trace, str(self.final(folder / f"{stem}.json"))))
        return [self.final(p) for p in written]


def _replaceable(target: Path) -> bool:
    if not target.exists():
        return True
    if not target.is_dir():
        raise UserError(f"{target}: exists and is not a folder")
    return _only_outputs(target, 1)


def _only_outputs(folder: Path, levels: int) -> bool:
    for entry in folder.iterdir():
        if entry.is_symlink():
            return False
        if entry.is_dir():
            if levels == 0 or not _only_outputs(entry, levels - 1):
                return False
        elif entry.suffix not in OUTPUT_SUFFIXES and not entry.name.endswith(OUTPUT_TESTS):
            return False
    return True


def _sibling(target: Path, tag: str) -> Path:
    return target.parent / f".{target.name}.{tag}-{secrets.token_hex(4)}"


@contextmanager
def staged_dir(target: str | os.PathLike[str]) -> Iterator[Staging]:
    """Yield a ``Staging`` to write into; on success its folder replaces ``target`` whole."""
    final = Path(target)
    if not _replaceable(final):
        raise UserError(f"{final}: the folder holds files that are not paxchain output; choose "
                        f"a new or empty folder (paxchain replaces its output folder whole)")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(final, "new")
    tmp.mkdir()  # mode 0777 less the umask, like any folder the user creates
    try:
        yield Staging(tmp, final)
        _move_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``, moving an existing ``final`` aside first (and deleting it
    after). A concurrent writer can put its own folder in between; then try again — the last
    rename wins, and each folder ever in place is one run's whole set."""
    for _ in range(_ATTEMPTS):
        old = None
        if final.exists():
            if not _replaceable(final):
                raise UserError(f"{final}: the folder now holds files that are not paxchain "
                                f"output")
            old = _sibling(final, "old")
            try:
                os.rename(final, old)
            except FileNotFoundError:  # another run moved it first
                old = None
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):  # another run's folder came first
                continue
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    raise UserError(f"{final}: other runs kept replacing the folder; try again")
