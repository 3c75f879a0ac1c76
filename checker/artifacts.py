"""A counterexample's files: ``trace.txt``, ``trace.json``, ``trace.dot`` and ``trace.svg``.

Plus one ``<stem>.dot``/``.svg`` per extra drawing the model offers (``Model.drawings``), e.g. a
chain's block tree (named without the stem when the stem is ``trace``: ``blocktree.svg``), and
``<stem>.html`` on request. SVGs are written only where graphviz's ``dot`` program exists; the
``.dot`` files always are.

The files of one trace are a *set* that lands together (``write_trace``): every file is rendered
in memory first, written into a fresh temporary folder beside the target, and that folder then
takes the target's place by rename. See ``write_trace`` for the exact guarantee.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # not POSIX: writers do not lock (``_locked``)
    fcntl = None  # type: ignore[assignment]

from paxchain.checker.render_html import trace_html
from paxchain.models.errors import UserError
from paxchain.checker.files import file_mode
from paxchain.checker.render_dot import DotFailed, dot_available, message_sequence, render_svg
from paxchain.checker.render_pytest import pasteable, test_source
from paxchain.checker.render_text import trace_text
from paxchain.checker.trace import Trace

__all__ = ["write_trace", "trace_files", "write_set"]

_SET_SUFFIXES = (".json", ".itf.json", ".txt", ".dot", ".svg", ".html", ".test.py")


def trace_files(trace: Trace, stem: str = "trace", html: bool = False,
                json_path: str | os.PathLike[str] | None = None) -> dict[str, str | bytes]:
    """Every file of ``trace``'s set, ``{file name: content}``, rendered in memory: besides the
    drawings, ``<stem>.test.py`` is the trace as a pytest test to paste into a suite
    (``paxchain.checker.render_pytest``; not for a liveness lasso, which no finite run shows).
    It is named so that pytest does not collect it where it lies: it fails until the bug is
    fixed, and belongs in a suite only when someone puts it there.

    ``json_path`` is the path the text's "Replay:" line names (default ``<stem>.json``)."""
    text = trace.dumps()
    files: dict[str, str | bytes] = {
        f"{stem}.json": text,
        f"{stem}.itf.json": text,  # the same ITF trace, under the name ITF tools look for
        f"{stem}.txt": trace_text(trace, str(json_path or f"{stem}.json")),
    }
    if pasteable(trace):
        files[f"{stem}.test.py"] = test_source(trace)
    drawings = {stem: message_sequence(trace)}
    for name, src in trace.model.drawings([s.state for s in trace.steps]).items():
        drawings[f"{stem}.{name}" if stem != "trace" else name] = src
    svg = dot_available()
    for name, src in drawings.items():
        files[f"{name}.dot"] = src
        if svg:
            try:
                files[f"{name}.svg"] = render_svg(src)
            except DotFailed as exc:  # a drawing must never cost the counterexample
                sys.stderr.write(f"paxchain: warning: no {name}.svg: {exc}\n")
    if html:
        files[f"{stem}.html"] = trace_html(trace)
    return files


def write_trace(trace: Trace, out_dir: str | os.PathLike[str], stem: str = "trace", *,
                html: bool = False,
                json_path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write every format of ``trace`` into ``out_dir`` as one set; return the paths written.

    Guarantee: the set (``<stem>.json`` and the same ITF trace as ``.itf.json``, ``.txt``,
    ``.dot``, ``.svg``, ``.test.py``, the model's drawings, ``.html`` when asked) is rendered
    in memory, written into a fresh folder
    ``.<out_dir>.tmp-XXXX`` beside ``out_dir`` (mode ``0o666``/``0o777`` less the umask, or the
    replaced folder's mode), and that folder then replaces ``out_dir`` by rename — swapped in one
    atomic step where Linux's ``renameat2(RENAME_EXCHANGE)`` is available, otherwise the old
    folder is renamed aside, the new one in, and the old one deleted. So the folder in place at
    ``out_dir`` is at every instant the whole previous set or the whole new one (without the
    atomic swap: for an instant, no folder), never files of two runs mixed, and nothing is in
    place half-written; a reader that opens the folder once and reads its files through that
    handle (``dir_fd``) gets one whole set. (One that opens file after file by path may straddle
    a swap, as with any replacement of several files.) Writers of the same folder take an
    advisory lock (``flock`` on the parent folder) around the swap, so two runs writing the
    same ``out_dir`` at once land one after the other: the last one wins, whole. If rendering
    or writing fails, ``out_dir`` is left as it was.

    Files already in ``out_dir`` that are not of this set (other stems' sets, other files) are
    carried into the new folder by hard link, so several traces can share a folder. Taken as
    this set and dropped: ``<stem>`` with any of the suffixes above, ``<stem>.*.dot/.svg``, and
    for the stem ``trace`` (whose drawings carry no prefix) every ``.dot``/``.svg`` not named
    after another ``.json`` in the folder — so no stale drawing of an earlier trace is left
    beside the new one. A folder that holds subfolders, or is (or holds) the working folder,
    is not swapped: that is bad input (``UserError``).

    ``json_path``: the path the text's "Replay:" line names (default: the final ``.json``).
    """
    out = _folder(out_dir)
    return write_set(out, trace_files(trace, stem, html, json_path or out / f"{stem}.json"),
                     stem)


# -- landing a set of files ------------------------------------------------------------------

def _folder(out_dir: str | os.PathLike[str]) -> Path:
    out = Path(out_dir)
    return Path(os.path.realpath(out)) if out.is_symlink() else out


def write_set(out_dir: str | os.PathLike[str], files: dict[str, str | bytes],
              stem: str) -> list[Path]:
    """Put ``files`` (``{name: content}``, the set of ``stem``) into the folder ``out_dir``
    with the guarantee described in ``write_trace``; return their paths."""
    out = _folder(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir():
        _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.parent):
        new = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            for name, data in files.items():
                _write_new(new / name, data)
            if out.is_dir():
                os.chmod(new, stat.S_IMODE(out.stat().st_mode))
                _carry_over(out, new, _members(out, stem, files))
                _swap_in(new, out)
            else:
                os.chmod(new, file_mode(directory=True))
                os.rename(new, out)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
    return [out / name for name in files]


def _write_new(path: Path, data: str | bytes) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())


def _members(folder: Path, stem: str, files: dict[str, str | bytes]) -> set[str]:
    """The names in ``folder`` that belong to the set of ``stem`` (replaced by ``files``)."""
    names = {e.name for e in os.scandir(folder)}
    drop = set(files) | {stem + suffix for suffix in _SET_SUFFIXES}
    others = {n[:-len(".json")] for n in names
              if n.endswith(".json") and not n.endswith(".itf.json")} - {stem}
    for n in names:
        if not n.endswith((".dot", ".svg")):
            continue
        if n.startswith(stem + "."):
            drop.add(n)
        elif stem == "trace" and n.split(".", 1)[0] not in others:
            drop.add(n)
    return drop & names


def _check_replaceable(out: Path) -> None:
    """Bad input: a folder the swap must not take from under the user — the working folder
    (or one holding it) and a folder with subfolders are not output folders."""
    here = os.path.realpath(os.getcwd())
    real = os.path.realpath(out)
    if here == real or here.startswith(real.rstrip(os.sep) + os.sep):
        raise UserError(f"{out}: is the working folder; paxchain lands a trace's files together "
                        f"by swapping in a new folder, so name a folder for the output "
                        f"(e.g. {os.path.join(str(out), 'cx')})")
    sub = next((e.name for e in os.scandir(out) if e.is_dir(follow_symlinks=False)), None)
    if sub is not None:
        raise UserError(f"{out}: holds a subfolder ({sub}); paxchain lands a trace's files "
                        f"together by swapping in a new folder, so name a folder of output "
                        f"files only")


def _carry_over(old: Path, new: Path, drop: set[str]) -> None:
    """Hard-link (or copy) every file of ``old`` not in ``drop`` into ``new``."""
    for entry in os.scandir(old):
        if entry.name in drop or (new / entry.name).exists():
            continue
        try:
            os.link(entry.path, new / entry.name, follow_symlinks=False)
        except OSError:
            shutil.copy2(entry.path, new / entry.name, follow_symlinks=False)


def _swap_in(new: Path, out: Path) -> None:
    """Put the folder ``new`` at ``out`` (which exists) and delete what was there."""
    if _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old folder
        return
    aside = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    os.rename(out, aside)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(aside, out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's ``renameat2(RENAME_EXCHANGE)``; False where the
    system or filesystem does not offer it (nothing was changed then)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` among paxchain writers (none where ``flock``
    is missing or the folder cannot be opened)."""
    if fcntl is None:  # not POSIX
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
