"""Explicit matrices and vectors as typed: small concrete ones, and general-K ones drawn with dots.

Why a module of its own: a matrix written out entry by entry is read by position, not by algebra:
`\\begin{bmatrix} s_1 - s_1^2 & \\cdots & -s_1 s_n \\\\ \\vdots & \\ddots \\\\ -s_n s_1 & \\cdots &
s_n - s_n^2 \\end{bmatrix}` shows the first rows and columns and the last (row and column K), and each
entry shown is checked at the position it stands for. Courses that count from 0 (s_0 .. s_n) are
read with every index moved up by one, so s_n is the last class, K.
"""
from __future__ import annotations

import sympy as sp
from lark import Token

from .. import symbols
from ..algebra.indices import free_indices
from ..errors import ParseError

MAX_MATRIX_SIZE = 8  # explicit matrices stand for a concrete K, which is checked up to 5
DOTS = "DOTS"


class GeneralMatrix(sp.Basic):
    """The entries a general-K matrix or vector shows, each at its position (1, 2, ..., K - 1, K).

    args: (Tuple of Tuple(row, column, entry), rows shown, columns shown); a vector has one column.
    It is no expression: it stands alone on its side of an '=', and alignment.py turns it into the
    target's entry at each position shown."""

    @property
    def cells(self) -> tuple:
        return tuple(tuple(cell) for cell in self.args[0])

    @property
    def least_size(self) -> tuple:
        """(rows, columns) shown: the smallest K for which no two shown positions coincide."""
        return int(self.args[1]), int(self.args[2])

    @property
    def is_vector(self) -> bool:
        return 1 in self.least_size and all(sp.S(1) in (r, c) for r, c, _e in self.cells)


def _is_dots(cell) -> bool:
    return isinstance(cell, Token) and cell.type == DOTS


def from_zero(entries: list) -> list:
    """Entries of a course that counts from 0 (s_0, s_1, ..., s_n) in classes 1, 2, ..., K."""
    def up(expr):
        moved = {ix: ix.base[tuple(n + 1 if n.is_Integer else n for n in ix.indices)]
                 for ix in expr.atoms(sp.Indexed)}
        return expr.xreplace(moved)
    if not any(n == 0 for e in entries for ix in e.atoms(sp.Indexed) for n in ix.indices):
        return entries
    return [up(e) for e in entries]


def concrete(rows: list) -> sp.ImmutableMatrix:
    """A matrix without dots: it stands for K = its size."""
    if len(rows) > MAX_MATRIX_SIZE or any(len(r) > MAX_MATRIX_SIZE for r in rows):
        raise ParseError(f"explicit matrices are read up to {MAX_MATRIX_SIZE}x{MAX_MATRIX_SIZE}")
    if len({len(r) for r in rows}) != 1:
        raise ParseError("the rows of the matrix have different lengths")
    flat = from_zero([e for r in rows for e in r])
    if any(getattr(e, "is_Matrix", False) for e in flat):
        raise ParseError("a matrix inside a matrix is not understood")
    width = len(rows[0])
    return sp.ImmutableMatrix([flat[r * width:(r + 1) * width] for r in range(len(rows))])


def _positions(count_before: int, count_after: int) -> list:
    """1, 2, ... for what comes before the dots; ..., K - 1, K for what comes after."""
    return [sp.Integer(p + 1) for p in range(count_before)] + [
        symbols.K - (count_after - 1 - p) for p in range(count_after)]


def _split(cells: list) -> tuple:
    """(before, after) the dots of one row; a second run of dots in a row is not read."""
    marks = [n for n, cell in enumerate(cells) if _is_dots(cell)]
    if not marks:
        return cells, []
    if any(b - a > 1 for a, b in zip(marks, marks[1:])):
        raise ParseError("a matrix row has dots in two places; one run of dots per row is read")
    return cells[:marks[0]], cells[marks[-1] + 1:]


def general(rows: list) -> GeneralMatrix:
    """A matrix or vector with dots: every entry shown at the position it stands for."""
    if len(rows) > MAX_MATRIX_SIZE or any(len(r) > MAX_MATRIX_SIZE for r in rows):
        raise ParseError(f"explicit matrices are read up to {MAX_MATRIX_SIZE}x{MAX_MATRIX_SIZE}")
    gaps = [n for n, row in enumerate(rows) if all(_is_dots(c) for c in row)]
    if any(b - a > 1 for a, b in zip(gaps, gaps[1:])):
        raise ParseError("the matrix has rows of dots in two places; one is read")
    shown = [row for row in rows if not all(_is_dots(c) for c in row)]
    if not shown:
        raise ParseError("the matrix shows no entry")
    top = gaps[0] if gaps else len(shown)
    layouts = {tuple(len(part) for part in _split(row)) for row in shown}
    if len(layouts) != 1:
        raise ParseError("the rows of the matrix have different lengths or dots in different columns")
    (left, right), = layouts
    row_at = _positions(top, len(shown) - top)
    col_at = _positions(left, right)
    if len(col_at) == 1 and len(shown) == 1:
        raise ParseError("the matrix shows one entry only")
    entries = from_zero([e for row in shown for part in _split(row) for e in part])
    if any(getattr(e, "is_Matrix", False) for e in entries):
        raise ParseError("a matrix inside a matrix is not understood")
    # The letter of the last index (s_n, y_N) is the number of classes; no other index stands free.
    letters = set().union(*(free_indices(e) for e in entries))
    if len(letters) > 1:
        raise ParseError(f"the matrix entries use the indices {', '.join(sorted(map(str, letters)))}; "
                         f"only the last one (as in s_n) is read, as the number of classes")
    entries = [e.xreplace({letter: symbols.K for letter in letters}) for e in entries]
    positions = [(r, c) for r in row_at for c in col_at]
    if len(col_at) == 1 or len(row_at) == 1:  # a vector, as a column
        positions = [(at, sp.Integer(1)) for at in (row_at if len(col_at) == 1 else col_at)]
    cells = sp.Tuple(*(sp.Tuple(r, c, e) for (r, c), e in zip(positions, entries)))
    size = (len(row_at), len(col_at)) if len(col_at) > 1 and len(row_at) > 1 else (len(positions), 1)
    return GeneralMatrix(cells, sp.Integer(size[0]), sp.Integer(size[1]))


def matrix(rows: list):
    """The matrix the rows describe: concrete without dots, general-K with them."""
    if any(_is_dots(c) for r in rows for c in r):
        return general(rows)
    return concrete(rows)


def scaled(factors: list) -> GeneralMatrix:
    """A number times a general-K matrix (\\frac{1}{\\sum_i e^{x_i}} [e^{x_1} ... e^{x_n}]): every entry scaled."""
    shown = [f for f in factors if isinstance(f, GeneralMatrix)]
    numbers = [f for f in factors if not isinstance(f, GeneralMatrix)]
    if len(shown) != 1 or any(getattr(f, "is_Matrix", False) for f in numbers):
        raise ParseError("a matrix with dots is read standing alone or times a number")
    matrix, factor = shown[0], sp.Mul(*numbers)
    cells = sp.Tuple(*(sp.Tuple(r, c, factor * e) for r, c, e in matrix.cells))
    return GeneralMatrix(cells, *matrix.args[1:])


def vector(cells: list):
    """(a_1, a_2, ..., a_n): a vector written as a tuple, general-K with dots, concrete without."""
    return matrix([[c] for c in cells]) if not any(_is_dots(c) for c in cells) else general([cells])
