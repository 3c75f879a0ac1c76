"""Errors that are the user's, not the program's: reported as one line, exit code 2."""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input: an unknown model, variant or parameter, a malformed file, a busy port."""
