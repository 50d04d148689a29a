"""Split a hand derivation into lines: `&=` rows separated by `\\`, or one expression per line.

Why here and not in the grammar: line numbers must be the student's own (1-based input lines),
and a `\\` or `&` inside \begin{cases} belongs to the cases, not to the derivation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ParseError
from .text import MAX_CHARS

_WRAPPER = re.compile(r"\\(?:begin|end)\s*\{\s*(?:align\*?|aligned|equation\*?|gather\*?|gathered|split|eqnarray\*?|"
                      r"multline\*?)\s*\}|\$\$?|(?<!\\)\\\[|(?<!\\)\\\]|\\\(|\\\)")
# \\[1.6em]: a row break with extra space; the space is layout.
_ROW_SPACE = re.compile(r"(?<=\\\\)\[\s*-?[0-9.]{1,6}\s*(?:em|ex|pt|mm|cm)\s*\]")
# Inside cases and explicit matrices, \\ and & belong to the environment, not to the derivation.
_CASES_OPEN = re.compile(r"\\begin\s*\{\s*(?:cases|[bpBvV]?matrix)\s*\}")
_CASES_CLOSE = re.compile(r"\\end\s*\{\s*(?:cases|[bpBvV]?matrix)\s*\}")
MAX_LINES = 40
# What the walk in `split` acts on: a line break, a row break \\, an alignment mark &, \begin or \end.
_BREAKS = re.compile(r"[\n&]|\\\\|\\begin|\\end")


@dataclass(frozen=True)
class Segment:
    line: int  # 1-based line of the input where the expression starts
    text: str


def split(text: str) -> tuple:
    """The non-empty segments of a derivation, in order."""
    if len(text) > MAX_CHARS:
        raise ParseError(f"the answer is too long ({len(text)} characters; at most {MAX_CHARS})")
    text = _ROW_SPACE.sub(lambda m: " " * len(m.group(0)), text)
    text = _WRAPPER.sub(lambda m: " " * len(m.group(0)), text)
    if not _BREAKS.search(text):  # one line (most answers): what the walk below would find, without it
        return _segments(text, text, [(0, len(text))])
    segments, start, depth, position = [], 0, 0, 0
    chars = list(text)
    while position < len(text):
        if text[position] == "\\":  # where \begin and \end can start (no regex tried at other characters)
            if _CASES_OPEN.match(text, position):
                depth += 1
            elif _CASES_CLOSE.match(text, position):
                depth = max(0, depth - 1)
        if depth == 0 and text.startswith("\\\\", position):
            segments.append((start, position))
            start = position = position + 2
            continue
        if depth == 0 and text[position] == "\n":
            segments.append((start, position))
            start = position + 1
        elif depth == 0 and text[position] == "&":
            chars[position] = " "
        elif text[position] == "\\":
            position += 1  # skip the escaped character (\& or \\ inside cases)
        position += 1
    segments.append((start, len(text)))
    return _segments(text, "".join(chars), segments)


def _segments(text: str, cleaned: str, segments: list) -> tuple:
    """The non-empty spans (begin, end) of `cleaned` (`text` with its alignment marks blanked) as Segments."""
    out = []
    for begin, end in segments:
        body = cleaned[begin:end]
        if body.strip():
            offset = begin + (len(body) - len(body.lstrip()))
            out.append(Segment(line=text.count("\n", 0, offset) + 1, text=body.strip()))
    if not out:
        raise ParseError("the answer is empty")
    if len(out) > MAX_LINES:
        raise ParseError(f"the derivation has too many lines (at most {MAX_LINES})")
    return tuple(out)
