"""Error messages: the short form of an exception that pacepred's own errors quote."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type's name."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__
