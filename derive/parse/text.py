"""Screen untrusted text before the grammar sees it: bounds, Unicode, and the command whitelist.

Why a separate pass: the refusals here name the offending character and its column in the
student's own text (before any rewriting), and they run in linear time, so hostile input
(100 KB, 3000 nested parentheses, U+202E, Cyrillic look-alikes) is refused before lark builds
anything and before anything can recurse.
"""
from __future__ import annotations

import re
import unicodedata

from ..errors import ParseError

MAX_CHARS = 4000  # a whole hand derivation fits in a few KB
MAX_DEPTH = 40  # brackets and braces; deeper input is refused, never recursed into
MAX_TOKENS = 1500

# Unicode the students type, mapped to the LaTeX the grammar reads (padded to keep columns).
UNICODE_TO_LATEX = {
    "σ": r"\sigma ", "δ": r"\delta ", "−": "-", "–": "-", "·": r"\cdot ", "⋅": r"\cdot ",
    "×": r"\times ", "∂": r"\partial ", "Σ": r"\sum ", "∑": r"\sum ", "≠": r"\neq ", "⊤": r"\top ",
    "ᵀ": r"^\top ", "ε": r"\epsilon ", "ϵ": r"\epsilon ", "τ": r"\tau ",
    "ŷ": r"\hat{y}", "𝟙": r"\mathbb{1}", "\u00a0": " ", "₁": "_1", "ᵢ": "_i", "ⱼ": "_j",
    "²": "^2", "—": "-", "∙": r"\cdot ", "∘": r"\circ ", "⊙": r"\odot ",
    # Full-width punctuation as Chinese keyboards type it.
    "，": ",", "；": ";", "（": "(", "）": ")", "。": ".", "：": ":", "　": " ",
}
# Chinese prose between or around formulas (所以, 综上, 其中 ...) is read as space; conditions
# written in Chinese (当 i = j 时) are taken off the line before screening.
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Commands the grammar knows, and those that are mere spacing or sizing (removed before parsing).
KNOWN_COMMANDS = frozenset({
    "sigma", "delta", "frac", "dfrac", "tfrac", "sum", "partial", "exp", "log", "ln", "cdot", "times",
    "top", "intercal", "hat", "mathrm", "operatorname", "text", "mathbb", "mathbf", "boldsymbol", "vec",
    "bm", "neq", "ne", "begin", "end", "epsilon", "varepsilon", "tau", "over", "mathcal", "mathit",
    "circ", "odot", "cdots", "vdots", "ddots", "dots", "ldots", "alpha", "beta", "gamma", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu",
    "xi", "pi", "rho", "upsilon", "phi", "varphi", "chi", "psi", "omega", "ell", "tag", "color",
})
LAYOUT_COMMANDS = frozenset({
    "left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "quad", "qquad", "displaystyle",
    "textstyle", "limits", "nolimits", "bigg", "Bigg", "biggl", "biggr", "Biggl", "Biggr", "large", "Large",
    "boxed", "bbox",  # a box around a result: its group {...} is read as it stands
})
_COMMAND = re.compile(r"\\([A-Za-z]+)")
# \tag{1.2} numbers a display; it says nothing about the mathematics.
_LAYOUT = re.compile(r"\\tag\s*\{[^{}]{0,12}\}|\\color\s*\{[A-Za-z]{1,20}\}|\\(?:left|right)\s*\.|\\(?:" + "|".join(sorted(LAYOUT_COMMANDS, key=len, reverse=True))
                     + r")(?![A-Za-z])|(?<!\\)\\[,;:! ]")
_EXPONENT_NOTATION = re.compile(r"[0-9]\.?[0-9]*[eE][+-]?[0-9]")
_LONG_NUMBER = re.compile(r"[0-9]{7,}|\.[0-9]{7,}")
_PLAIN = re.compile(r"[ -~\n\t\r]*")  # printable ASCII and the three whitespace controls: always allowed
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]|[0-9]+|\S")


def where(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _refuse(text: str, index: int, message: str) -> ParseError:
    line, column = where(text, index)
    return ParseError(message, column=column, line=line if "\n" in text else None)


def screen_with_origin(raw: str) -> tuple:
    """The text NFC-normalised, checked, with Unicode mapped to LaTeX and layout commands blanked.

    Returns (screened text, original 1-based column of each of its characters): lark reports positions
    in the rewritten text, the student needs them in what they typed (σ became \\sigma)."""
    if not isinstance(raw, str):
        raise ParseError("the answer must be text")
    if len(raw) > MAX_CHARS:
        raise ParseError(f"the answer is too long ({len(raw)} characters; at most {MAX_CHARS})")
    text = unicodedata.normalize("NFC", raw)
    if not text.strip():
        raise ParseError("the answer is empty")
    _check_characters(text)
    _check_numbers(text)
    _check_commands(text)
    _check_depth(text)
    if len(_TOKEN.findall(text)) > MAX_TOKENS:
        raise ParseError(f"the answer has too many symbols (at most {MAX_TOKENS})")
    if text.isascii():  # nothing to map: every character UNICODE_TO_LATEX or _CJK rewrites is beyond ASCII
        mapped, origin = text, tuple(_columns(text))
    else:
        pieces = [" " if _CJK.match(ch) else UNICODE_TO_LATEX.get(ch, ch) for ch in text]
        origin = tuple(column for column, piece in zip(_columns(text), pieces) for _ in piece)
        mapped = "".join(pieces)
    return _LAYOUT.sub(lambda m: " " * len(m.group(0)), mapped), origin


def _columns(text: str) -> list:
    """where(text, index)[1] for every index, in one pass (where counts the lines before each one)."""
    columns, column = [], 0
    for ch in text:
        column += 1
        columns.append(column)
        if ch == "\n":
            column = 0
    return columns


def _check_characters(text: str) -> None:
    if _PLAIN.fullmatch(text):  # the usual answer: nothing to look at one character at a time
        return
    for index, ch in enumerate(text):
        if ch in "\n\t\r" or (" " <= ch <= "~") or ch in UNICODE_TO_LATEX or _CJK.match(ch):
            continue
        name = unicodedata.name(ch, f"U+{ord(ch):04X}")
        code = f"U+{ord(ch):04X}"
        category = unicodedata.category(ch)
        if category.startswith("C") or category in ("Zl", "Zp"):
            raise _refuse(text, index, f"control or format character {code} {name} is not allowed")
        latin = _lookalike(name)
        if latin:
            raise _refuse(text, index, f"{code} {name} looks like the Latin letter {latin!r} but is not;"
                                       f" type the Latin letter")
        raise _refuse(text, index, f"character {ch!r} ({code} {name}) is not understood")


def _lookalike(name: str) -> str | None:
    """The Latin letter a Cyrillic or Greek letter imitates, if any (р -> p, о -> o, ...)."""
    match = re.fullmatch(r"(CYRILLIC|GREEK) (SMALL|CAPITAL) LETTER (\w+)", name)
    if not match:
        return None
    letter = {"ER": "p", "ES": "c", "IE": "e", "O": "o", "A": "a", "U": "y", "HA": "x", "OMICRON": "o",
              "BYELORUSSIAN-UKRAINIAN I": "i", "JE": "j", "DZE": "s", "KA": "k", "TE": "t", "NU": "v",
              "IOTA": "i", "KAPPA": "k", "RHO": "p", "CHI": "x", "UPSILON": "u"}.get(match.group(3))
    if letter is None:
        return None
    return letter.upper() if match.group(2) == "CAPITAL" else letter


def _check_numbers(text: str) -> None:
    match = _EXPONENT_NOTATION.search(text)
    if match:
        raise _refuse(text, match.start(), "exponent notation such as 1e5 is not accepted; write 10^{5}")
    match = _LONG_NUMBER.search(text)
    if match:
        raise _refuse(text, match.start(), "a number has more than 6 digits")


def _check_commands(text: str) -> None:
    for match in _COMMAND.finditer(text):
        name = match.group(1)
        if name not in KNOWN_COMMANDS and name not in LAYOUT_COMMANDS:
            raise _refuse(text, match.start(), f"unknown command \\{name}")


def _check_depth(text: str) -> None:
    if sum(text.count(bracket) for bracket in "([{") <= MAX_DEPTH:  # too few to nest too deeply
        return
    depth = 0
    for index, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(text, index, f"brackets nested too deeply (more than {MAX_DEPTH})")
        elif ch in ")]}":
            depth -= 1
