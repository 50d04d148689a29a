"""Bounds on what the parser may build: estimated magnitudes, checked before SymPy evaluates.

Why estimate first: sp.Pow(9, 9**9) evaluates eagerly and would compute a number with hundreds
of millions of digits; the estimate is propagated through the tree (not per literal), so
((9^9)^{9999})^{9999} is refused as surely as 9^{9^{9^9}}.
"""
from __future__ import annotations

import math

import sympy as sp

from .. import symbols
from ..errors import ParseError

MAX_LOG10 = 300  # estimated |value| above 10^300 is refused before SymPy computes it
MAX_EXPONENT = 1000


def log10_bound(expr: sp.Basic) -> float:
    """An upper estimate of log10 |value| at the points we evaluate (|z| < 10, K <= 8)."""
    if expr.is_Number:
        return math.log10(max(abs(float(expr)), 1.0)) if abs(expr) < 10**300 else math.inf
    if isinstance(expr, sp.Indexed) and expr.base == symbols.z:
        return 0.61  # logits are below 4 in magnitude at our points (log10 4 = 0.60)
    if isinstance(expr, (sp.Indexed, sp.KroneckerDelta, sp.MatrixSymbol)):
        return 0.0  # probabilities, targets and deltas lie in [0, 1]
    if isinstance(expr, sp.exp):  # log10 e^x = 0.434 x, and |x| < 10^bound(x)
        return 0.4343 * 10 ** min(log10_bound(expr.args[0]), 20)
    if isinstance(expr, sp.Pow):
        return log10_bound(expr.base) * 10 ** min(log10_bound(expr.exp), 20)
    if isinstance(expr, sp.Sum):
        return 1.0 + log10_bound(expr.function)
    if isinstance(expr, (sp.Mul, sp.MatMul)):
        return sum(log10_bound(a) for a in expr.args)
    if isinstance(expr, (sp.Add, sp.MatAdd)):  # |a + b + ...| <= n max |.|
        return math.log10(len(expr.args)) + max(log10_bound(a) for a in expr.args)
    if expr.args:
        return 1.0 + max(log10_bound(a) for a in expr.args)
    return 1.0


def checked(expr: sp.Basic) -> sp.Basic:
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ParseError("division by zero")
    if log10_bound(expr) > MAX_LOG10:
        raise ParseError("a number in the answer is too large (estimated above 10^300)")
    return expr


def power(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    """base^exponent, refused before SymPy evaluates it if the estimated size is too large."""
    if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
        raise ParseError(f"the exponent {exponent} is too large (at most {MAX_EXPONENT})")
    size = log10_bound(base) * 10 ** min(log10_bound(exponent), 20)
    if exponent.is_Number:
        size = log10_bound(base) * abs(float(exponent))
    if size > MAX_LOG10 or log10_bound(exponent) > 4:
        raise ParseError("a power in the answer is too large (estimated above 10^300)")
    if base == 0 and exponent.is_Number and exponent < 0:
        raise ParseError("division by zero")
    return checked(sp.Pow(base, exponent))


def combine(op: str, left: sp.Basic, right: sp.Basic) -> sp.Basic:
    """left op right for scalars, vectors and matrices; shape clashes become ParseErrors."""
    try:
        if op == "+":
            return checked(left + right)
        if op == "-":
            return checked(left - right)
        if op == "*":
            if _is_column(left) and _is_column(right):
                raise ParseError("two column vectors multiplied: write \\sigma\\sigma^\\top (outer) "
                                 "or a sum over entries (inner)")
            return checked(left * right)
        if right == 0:
            raise ParseError("division by zero")
        if getattr(right, "is_Matrix", False):
            raise ParseError("division by a vector or matrix")
        return checked(left * power(right, sp.Integer(-1)))
    except (TypeError, ValueError, sp.ShapeError) as error:
        raise ParseError(f"cannot combine {_kind(left)} and {_kind(right)} with {op!r}") from error


def _is_column(expr) -> bool:
    return getattr(expr, "is_Matrix", False) and expr.shape[1] == 1


def _kind(expr) -> str:
    if getattr(expr, "is_Matrix", False):
        return "a vector" if expr.shape[1] == 1 else "a matrix"
    return "a number"
