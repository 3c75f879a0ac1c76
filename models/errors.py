"""Errors that are the user's, not the program's: reported as one line, exit code 2."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

__all__ = ["UserError", "one_line", "finite_number", "MAX_MESSAGE"]

MAX_MESSAGE = 2000  # characters of a message kept; the rest is elided


class UserError(Exception):
    """Bad input: an unknown model, variant or parameter, a malformed file, a busy port.

    ``str()`` of it is always one printable line (``one_line``), whatever text from the input
    file or command line the message quotes.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` as one line of printable characters: line breaks and tabs become spaces, other
    control characters and lone surrogates become ``\\x..``/``\\u....`` escapes, and text past
    ``limit`` characters is cut with ``…``."""
    out = []
    for ch in text:
        if ch in "\r\n\t\v\f\x1c\x1d\x1e\x85\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
        if len(out) > limit:
            return "".join(out[:limit]) + "…"
    return "".join(out)


def finite_number(text: Any, what: str) -> float:
    """``text`` (an option's value) as a finite float, or a one-line ``UserError`` naming
    ``what``: NaN and infinity are refused (``float()`` accepts both)."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        raise UserError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise UserError(f"{what}: {text!r} is not a finite number")
    return x
