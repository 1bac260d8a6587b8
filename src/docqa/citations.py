"""Citation markers: the one place that knows what ``[n]`` looks like.

Every answerer writes ``[n]`` after each sentence; the guard reads the markers a model wrote;
the conversation and the metrics remove them from answers. All of them use the patterns below.
(``Citation`` itself, with its one constructor and serialiser, lives in ``models.py``.)
"""

from __future__ import annotations

import re

MARKER = r"\[\s*\d+(?:\s*[,;\-–]\s*\d+)*\s*\]"
"""One marker: ``[1]``, ``[1, 2]``, ``[1-2]``, ``[1; 3]`` (a regular expression)."""

MARKER_RUN = re.compile(rf"[^\S\n]*{MARKER}(?:[^\S\n]*{MARKER})*")
"""Markers that follow each other (``[1][2]``) with the spaces before them."""

_SPACED_MARKER = re.compile(rf"\s*{MARKER}")
_FOOTNOTE = re.compile(r"\[(\d+)\]")
_MAX_RANGE = 20  # "[1-300]" is a typo or an attack, not three hundred citations


def strip_markers(text: str) -> str:
    """``text`` without its citation markers (and the spaces before them), trimmed.

    Example:
        >>> strip_markers("It was set up in 2018 [1]. It advises [2, 3].")
        'It was set up in 2018. It advises.'
    """
    return _SPACED_MARKER.sub("", text).strip()


def marker_numbers(marker: str) -> list[int]:
    """The source numbers one marker names, in order (``"[1-3]"`` gives 1, 2, 3)."""
    found: list[int] = []
    for part in re.split(r"[,;]", marker.strip("[] ")):
        ends = [int(n) for n in re.findall(r"\d+", part)]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= _MAX_RANGE:
            found.extend(range(ends[0], ends[1] + 1))
        else:
            found.extend(ends)
    return found


def find_markers(text: str) -> list[str]:
    """Every marker of ``text``, in order."""
    return re.findall(MARKER, text)


def show_sentence(quote: str, number: int) -> str:
    """A quoted document sentence as an answer shows it: one line, then its marker.

    Newlines inside a quote would break the answer's layout, so whitespace is collapsed (the
    citation's quote keeps it, staying an exact copy). A document's own footnote ``[3]`` must
    not pass for a citation marker: it is shown as ``(3)``.
    """
    shown = _FOOTNOTE.sub(r"(\1)", " ".join(quote.split()))
    return f"{shown} [{number}]"
