"""The state of one test point: array values, scalars and derived arrays (Env), and lazily computed matrices."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import mpmath
import sympy as sp

from ..errors import DeriveError


class EvaluationError(DeriveError):
    """The tree holds something the evaluator does not know; a bug or an unsupported input."""


class NotAnInput(EvaluationError):
    """A derivative with respect to something the question has no input for (u, z_9 at K = 4):
    not a value missing at one point, so the answer cannot be judged at all."""


class LazyMatrix:
    """A derived matrix whose entries are costly (a numeric Hessian): computed on first use, then kept."""

    def __init__(self, rows: int, cols: int, entry: Callable[[int, int], object]):
        self.rows, self.cols, self._entry, self._cache = rows, cols, entry, {}

    def __getitem__(self, position):
        if position not in self._cache:
            self._cache[position] = self._entry(*position)
        return self._cache[position]

    def as_matrix(self):
        return mpmath.matrix([[self[r, c] for c in range(self.cols)] for r in range(self.rows)])


class RowsMatrix(LazyMatrix):
    """A derived matrix computed whole as a list of rows (log P, one log-softmax per row): read by
    position, with nothing left to compute or keep per entry (a loss reads each entry once)."""

    def __init__(self, rows: list):
        super().__init__(len(rows), len(rows[0]), lambda r, c: rows[r][c])
        self._rows = rows

    def __getitem__(self, position):
        r, c = position
        return self._rows[r][c]


@dataclass(frozen=True)
class Env:
    """A point: array values (1-based in the trees), scalar symbols, and derived arrays."""

    K: int
    arrays: dict = field(default_factory=dict)  # name -> list of mpf (vectors) or mpmath.matrix
    scalars: dict = field(default_factory=dict)  # sympy Symbol -> number
    derived: dict = field(default_factory=dict)  # name -> fn(env) -> list, e.g. sigma from z
    # Derived values depend on the arrays only: computed once per point, dropped when an array changes.
    memo: dict = field(default_factory=dict, compare=False, repr=False)
    # The free indices of a step checked at every assignment of them (i, j, d; not those a derived
    # array reads, Semantics.derived_reads): the envs of one point share `across_indices` (numeric
    # derivatives, evaluate._derivative), valid for every assignment because derived arrays are
    # computed without these indices (they cannot read them).
    entry_indices: frozenset = frozenset()
    across_indices: dict | None = field(default=None, compare=False, repr=False)

    def array(self, name: str):
        if name in self.arrays:
            return self.arrays[name]
        if name in self.derived:
            if name not in self.memo:
                self.memo[name] = self.derived[name](self._without_entry_indices())
            return self.memo[name]
        raise EvaluationError(f"no value for {name!r} at this point")

    def _without_entry_indices(self) -> "Env":
        if not self.entry_indices:
            return self
        return self._copy(scalars={s: v for s, v in self.scalars.items() if s not in self.entry_indices})

    def with_entry(self, name: str, position: tuple, value) -> "Env":
        """A copy with one array entry changed (0-based position), for numeric derivatives.

        A derived array (z = W x + b) is first fixed at its current value: differentiating with
        respect to it treats it as an independent variable, as the chain rule does."""
        current = self.arrays[name] if name in self.arrays else self.array(name)
        if isinstance(current, mpmath.matrix):
            changed = current.copy()
            changed[position] = value
        else:
            changed = list(current)
            changed[position[0]] = value
        return self._copy(arrays={**self.arrays, name: changed}, memo={},
                          across_indices=None if self.across_indices is None else {})

    def with_scalar(self, symbol: sp.Symbol, value) -> "Env":
        """A copy with a scalar bound. A Sum's dummy is new to the point and no derived array reads
        it, so the memo (sigma, S) and the shared derivatives are kept; changing one of the point's
        own scalars (T, epsilon), which derived arrays do read, starts both afresh."""
        if symbol not in self.scalars:
            return self._copy(scalars={**self.scalars, symbol: value})
        return self._copy(scalars={**self.scalars, symbol: value}, memo={},
                          across_indices=None if self.across_indices is None else {})

    def with_index(self, symbol: sp.Symbol) -> tuple["Env", dict]:
        """A child point for a Sum over a dummy new to this point, and the child's own scalars,
        which the Sum rebinds term by term: one child per Sum rather than one copy per term (that
        copy was the largest single cost of grading). The memo is shared, as with with_scalar; the
        child is used only while its Sum runs."""
        if symbol in self.scalars:
            raise EvaluationError(f"{symbol} is already bound at this point: use with_scalar")
        scalars = dict(self.scalars)
        return self._copy(scalars=scalars), scalars

    def _copy(self, **changes) -> "Env":
        """dataclasses.replace without its per-field checks and __init__ (a few times faster): the
        fields are only ever replaced by values of their own kind."""
        copy = object.__new__(Env)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy
