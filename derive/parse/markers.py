"""What the builder's rules hand each other besides SymPy values: a name before its subscript, a bare index, a condition.

Why a module of its own: the rules for sums and derivatives (sums.py, derivatives.py) and the rest of the
builder (build.py) all pass these markers and turn them into values with `value`, which says why a marker
cannot be a number (an index standing alone is not one).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import ParseError


@dataclass(frozen=True)
class Name:
    """A symbol as typed, before we know whether it carries a subscript."""
    key: str
    column: int | None


@dataclass(frozen=True)
class IndexRef:
    """A bare index letter (i in delta(i, j)); not a number, so it may not enter arithmetic."""
    symbol: sp.Symbol


@dataclass(frozen=True)
class Cond:
    left: sp.Symbol
    equal: bool
    right: sp.Symbol


def value(item, what: str = "this") -> sp.Basic:
    """A SymPy value, or a ParseError saying why a marker cannot be used as a number."""
    if isinstance(item, IndexRef):
        raise ParseError(f"the index {item.symbol} stands alone; indices belong in subscripts such as z_{item.symbol}")
    if isinstance(item, Name):
        raise ParseError(f"{item.key} cannot be used here", column=item.column)
    if not isinstance(item, sp.Basic):
        raise ParseError(f"{what} is not an expression")
    return item
