"""Prove a code's gradient entry equal to the target's: numerics at 50 digits, then an exact proof for every K.

Why both: the numeric comparison (check.equivalence, every point and index pair) finds the
counterexample when the code is wrong; when it agrees, the entries written in logits are put in the
sum normal form and the exact ring zero test proves the difference zero for symbolic K. Should that
not close, the identity is proved exactly at K = 2..5 instead, and the message says which proof held.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import sympy as sp

from .. import symbols
from ..check.equivalence import Counterexample, ShapeMismatch, compare
from ..check.target import CheckTarget
from ..algebra.zero_test import is_zero
from .sums import normal

CONCRETE_KS = (2, 3, 4, 5)
CONCRETE_SIZES = {symbols.D: 2, symbols.N: 2}
SHIFT_PROBE = sp.Rational(7, 3)  # a second value for max z: the result must not depend on it


@dataclass(frozen=True)
class Proof:
    agree: bool
    method: str  # "symbolic" (every K) | "concrete" (K = 2..5) | "numeric" | ""
    points: int
    counterexample: Counterexample | None = None
    message: str = ""


def without_max(expr: sp.Expr, probe: CheckTarget) -> tuple:
    """max z -> 0, after checking the result does not change when max z takes another value."""
    shifts = [a for a in expr.atoms(sp.Symbol, sp.Indexed) if _is_max(a)]
    if not shifts:
        return expr, True
    at_zero = expr.xreplace({a: 0 for a in shifts})
    moved = expr.xreplace({a: SHIFT_PROBE for a in shifts})
    same = compare(moved, replace(probe, result=at_zero)).agree
    return at_zero, same


def _is_max(atom) -> bool:
    name = atom.base.name if isinstance(atom, sp.Indexed) else atom.name
    return name.startswith("_max")


def prove(expr: sp.Expr, probe: CheckTarget) -> Proof:
    try:
        numeric = compare(expr, probe)
    except ShapeMismatch as error:
        return Proof(False, "", 0, None, str(error))
    if not numeric.agree:
        return Proof(False, "numeric", numeric.checked, numeric.counterexample)
    if _symbolic(expr, probe):
        return Proof(True, "symbolic", numeric.checked)
    if all(_concrete(expr, probe, n) for n in CONCRETE_KS):
        return Proof(True, "concrete", numeric.checked)
    return Proof(True, "numeric", numeric.checked)


def _in_logits(expr: sp.Expr, probe: CheckTarget, n: int | None) -> sp.Expr:
    expr = probe.substitute(expr)
    semantics = probe.semantics
    if semantics is not None and semantics.layers is not None:
        for _bases, substitute in semantics.layers:
            expr = substitute(expr, n)
        return expr
    return symbols.softmax_definitions(expr, n=n)


def _symbolic(expr: sp.Expr, probe: CheckTarget) -> bool:
    try:
        difference = normal(_in_logits(expr, probe, None)) - normal(_in_logits(probe.result, probe, None))
        difference = _targets_sum_to_one(normal(difference), probe)
        return all(is_zero(case) for case in _by_cases(difference, probe))
    except (RecursionError, TypeError, ValueError, NotImplementedError, AttributeError):
        return False


def _by_cases(expr: sp.Expr, probe: CheckTarget) -> list:
    """i = j and i != j apart: delta_ij s_i^2 = delta_ij s_i s_j holds, but not as a polynomial identity."""
    if len(probe.free) != 2 or not expr.has(sp.KroneckerDelta(*probe.free)):
        return [expr]
    a, b = probe.free
    delta = sp.KroneckerDelta(a, b)
    return [normal(expr.xreplace({delta: sp.Integer(1)}).xreplace({b: a})), expr.xreplace({delta: sp.Integer(0)})]


def _targets_sum_to_one(expr: sp.Expr, probe: CheckTarget) -> sp.Expr:
    """Sum_k y_k = 1 where the target says targets lie on the simplex."""
    if not probe.simplex:
        return expr
    return sp.expand(expr.replace(lambda e: isinstance(e, sp.Sum) and isinstance(e.function, sp.Indexed)
                                  and e.function.base == symbols.y, lambda e: sp.Integer(1)))


def _concrete(expr: sp.Expr, probe: CheckTarget, n: int) -> bool:
    sizes = {symbols.K: n, **CONCRETE_SIZES}
    try:
        for assignment in _assignments(probe, n):
            values = {**sizes, **assignment}
            left = _in_logits(expr.xreplace(values).doit(), probe, n)
            right = _in_logits(probe.result.xreplace(values).doit(), probe, n)
            difference = sp.expand(left - right)
            if probe.simplex:
                difference = difference.subs(symbols.y[n], 1 - sp.Add(*[symbols.y[r] for r in range(1, n)]))
            if not is_zero(difference):
                return False
        return True
    except (RecursionError, TypeError, ValueError, NotImplementedError, AttributeError):
        return False


def _assignments(probe: CheckTarget, n: int) -> list:
    ranges = probe.semantics.index_ranges if probe.semantics is not None else {}
    spans = [range(1, (CONCRETE_SIZES[ranges[ix]] if ix in ranges else n) + 1) for ix in probe.free]
    return [dict(zip(probe.free, combo)) for combo in itertools.product(*spans)]
