"""Turn typed LaTeX, Unicode or plain text into SymPy. Owns the grammar; knows nothing of checking.

Pipeline: screen (bounds, characters, command whitelist) -> lark LALR (linear time) -> Build
(a Transformer over a fixed table of names) -> scoping (a sum's index that reuses a free letter is
renamed, so it never captures the free one). Every failure is a ParseError with a column; lark's
VisitError is unwrapped here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import lark
import sympy as sp
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from sympy.tensor.indexed import IndexException

from ..errors import ParseError
from .build import Build
from .sums import rebind_reused_sum_indices
from .text import screen_with_origin


@dataclass(frozen=True)
class ParsedLine:
    """One line of an answer: the expressions between '=' signs (None where a side is empty)."""

    parts: tuple
    used_ln: bool = False
    used_log: bool = False
    class_count: int | None = None  # a sum to a number (\sum_{j=1}^{10}): read over all K classes
    reused_sum_indices: tuple = ()  # letters both free and a sum's own index (e^{z_j} / \sum_j e^{z_j})


@functools.lru_cache(maxsize=1)
def grammar() -> lark.Lark:
    text = resources.files("derive.parse").joinpath("grammar.lark").read_text(encoding="utf-8")
    return lark.Lark(text, parser="lalr", maybe_placeholders=True, propagate_positions=False, cache=_cache_file(text))


def _cache_file(text: str) -> str | bool:
    """Where lark keeps the analysed grammar (a check then starts 0.13 s sooner): the user's own cache
    directory, named by the grammar's hash; lark also checks the hash inside. False: no cache."""
    import hashlib
    from ..files import cache_folder
    folder = cache_folder()
    if folder is None:  # no home directory, or not writable: build the grammar each time
        return False
    digest = hashlib.sha256(f"{lark.__version__}\n{text}".encode()).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark")


# Friendly messages for common slips, matched by parser state (lark's match_examples).
_EXAMPLES = {
    "a bracket or brace is not closed": [r"\sigma_i(1 - \sigma_j", r"\frac{a}{b", r"(1 + (2)", r"\frac{1}{"],
    "a bracket or brace closes without opening": [r"\sigma_i)", r"1 + 2)", r"a}"],
    r"\frac needs two groups in braces, as in \frac{a}{b}": [r"\frac a b", r"\frac{a} b"],
    "an operator is missing its right-hand side": [r"\sigma_i -", r"1 +", r"a \cdot", "a*"],
}


def _describe(error: UnexpectedInput, text: str) -> str:
    try:
        label = error.match_examples(_parse_example, _EXAMPLES, use_accepts=True)
    except (UnexpectedInput, ParseError, VisitError, AssertionError):
        label = None
    if label:
        return label
    if isinstance(error, UnexpectedCharacters):
        return f"unexpected character {text[error.pos_in_stream]!r}"
    if isinstance(error, UnexpectedEOF):
        return "the answer ends too early"
    if isinstance(error, UnexpectedToken):
        return "the answer ends too early" if error.token.type == "$END" else f"unexpected {str(error.token)!r}"
    return "the answer cannot be read"


def _parse_example(example: str) -> None:
    """grammar().parse for match_examples: each of _EXAMPLES fails the same way every time, so lark
    parses it once per process (every unreadable answer of a class tried all of them again)."""
    failure = _example_failure(example)
    if failure is not None:
        raise failure.with_traceback(None)


@functools.lru_cache(maxsize=None)
def _example_failure(example: str) -> UnexpectedInput | None:
    try:
        grammar().parse(example)
    except UnexpectedInput as error:
        return error
    return None


def warm_lexer(text: str) -> None:
    """Parse `text` and keep nothing: lark builds the scanner of each parser state at its first use (about
    0.5 ms each, 15 for a typical answer), so a process about to fork workers builds those a text like this
    one needs once, for all of them. A text that cannot be read builds the ones it reached."""
    try:
        grammar().parse(screen_with_origin(text)[0])
    except (UnexpectedInput, ParseError):
        pass


def _column(error: UnexpectedInput, origin: tuple) -> int | None:
    """The column in the student's text (before Unicode was rewritten) where lark stopped."""
    position = getattr(error, "pos_in_stream", None)
    token = getattr(error, "token", None)
    if token is not None and getattr(token, "start_pos", None) is not None:
        position = token.start_pos
    if position is None or not origin:
        return getattr(error, "column", None)
    return origin[min(position, len(origin) - 1)] + (1 if position >= len(origin) else 0)


def parse_line(raw: str, *, binary: bool = False, roles: dict | None = None) -> ParsedLine:
    """One line: `expr`, `lhs = rhs`, `= rhs` or `lhs =`; ParseError otherwise. `binary`: K = 2 and
    no free index (sigmoid-logistic-gradient), so y and sigma without an index mean y_1 and sigma_1.
    `roles`: the answer's own letters ({"p": "sigma", "o": "z", "E": "L"}), read or declared."""
    text, origin = screen_with_origin(raw)
    try:
        tree = grammar().parse(text)
    except UnexpectedInput as error:
        raise ParseError(_describe(error, text), column=_column(error, origin)) from None
    builder = Build(binary=binary, roles=roles)
    try:
        parts = builder.transform(tree)
    except VisitError as error:
        original = error.orig_exc
        if isinstance(original, ParseError):
            raise original from None
        if isinstance(original, RecursionError):
            raise ParseError("the answer is nested too deeply") from None
        if isinstance(original, (TypeError, ValueError, ArithmeticError, NotImplementedError, sp.ShapeError,
                                 IndexException)):
            raise ParseError(f"the answer cannot be built: {type(original).__name__}") from None
        raise
    if not any(p is not None for p in parts):
        raise ParseError("the answer is empty")
    rebound = [rebind_reused_sum_indices(part) for part in parts]
    return ParsedLine(parts=tuple(part for part, _letters in rebound), used_ln=builder.used_ln,
                      used_log=builder.used_log, class_count=builder.class_count,
                      reused_sum_indices=tuple(sorted({x for _part, letters in rebound for x in letters})))


def parse(raw: str) -> sp.Basic:
    """Exactly one expression (no '='): the reading of a single answer."""
    line = parse_line(raw)
    if len(line.parts) != 1:
        raise ParseError("expected one expression without '='")
    return line.parts[0]

