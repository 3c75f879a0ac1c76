"""Reading input files strictly and writing output files so that a reader never sees half of one.

Writing: every artifact (traces, drawings, reports) is written to a temporary file in the
target directory and renamed over the final name, which is atomic on POSIX filesystems. The
file gets the mode any file the user creates gets (``0o666`` less the umask), not
``tempfile``'s private ``0o600``.

Reading: ``read_json`` and ``loads_json`` turn every way a JSON input can be bad into one
``UserError`` line (exit 2): larger than ``MAX_JSON_BYTES``, not UTF-8, not JSON, nested
deeper than ``MAX_JSON_DEPTH`` (checked before parsing, so neither the parser nor any recursive
reader after it can run out of stack), an integer longer than Python's int-string limit, and
``NaN``/``Infinity`` or a number too large for a float (JSON has no non-finite numbers;
Python's parser accepts them by default).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from itertools import accumulate
from pathlib import Path
from typing import Any

from paxchain.models.errors import UserError

__all__ = ["write_atomic", "read_json", "loads_json", "file_mode", "MAX_JSON_DEPTH",
           "MAX_JSON_BYTES"]

MAX_JSON_DEPTH = 100  # nested arrays/objects; paxchain's own files nest about a dozen deep
MAX_JSON_BYTES = 256 * 2**20  # a file larger than this is refused before it is parsed

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def file_mode(directory: bool = False) -> int:
    """The mode a new file (``0o666``) or folder (``0o777``) gets under the current umask."""
    return (0o777 if directory else 0o666) & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask is process-wide and not thread-safe)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, then rename);
    the file's mode is ``0o666`` less the umask."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


# -- reading JSON that may be hostile --------------------------------------------------------

def read_json(path: str | os.PathLike[str], max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``path``; anything wrong with it is one ``UserError`` line
    naming ``path`` (a file over ``MAX_JSON_BYTES`` included)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_JSON_BYTES:
        raise UserError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not JSON: not UTF-8 text (byte {exc.start})") from None
    try:
        return loads_json(text, max_depth)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def loads_json(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted text: a ``UserError`` (the reason, one line) unless ``text``
    is standard JSON nested at most ``max_depth`` deep with finite numbers."""
    depth = _depth(text)
    if depth > max_depth:
        raise UserError(f"JSON nested {depth} levels deep (at most {max_depth} are read)")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_int)
    except json.JSONDecodeError as exc:
        raise UserError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _BadNumber as exc:
        raise UserError(str(exc)) from None
    except RecursionError:  # cannot happen below max_depth; kept as a last guard
        raise UserError("JSON nested too deeply") from None


def _depth(text: str) -> int:
    """How deep ``[``/``{`` nest in ``text`` outside strings (an upper bound for bad JSON)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(1 if c in "[{" else -1 for c in brackets))


class _BadNumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _BadNumber(f"not JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {text[:40]} is too large for a float")
    return value


def _int(text: str) -> int:
    limit = sys.get_int_max_str_digits()
    digits = len(text.lstrip("-"))
    if limit and digits > limit:
        raise _BadNumber(f"an integer has {digits} digits (at most {limit} are read)")
    return int(text)
