"""Bounds on what the parser may build: estimated magnitudes, checked before SymPy evaluates.

Why estimate first: sp.Pow(9, 9**9) evaluates eagerly and would compute a number with hundreds
of millions of digits; the estimate is propagated through the tree (not per literal), so
((9^9)^{9999})^{9999} is refused as surely as 9^{9^{9^9}}. Two more bounds keep SymPy's exact
arithmetic small whatever the value: the digits of the exact numbers it would build (0.5^{1000}
is tiny but has 302 digits, and ((0.5^{1000})^{1000})^{1000} a billion), and the order of a root
taken of a number (0.999999^{0.999999} asks for a millionth root: SymPy searches 999999^999999 for
perfect powers for a minute). All are counts, so the answer is the same on any machine.
"""
from __future__ import annotations

import functools
import math

import sympy as sp

from .. import symbols
from ..errors import ParseError

MAX_LOG10 = 300  # estimated |value| above 10^300 is refused before SymPy computes it
MAX_EXPONENT = 1000
MAX_DIGITS = 1000  # digits of any exact number SymPy would build (numerator or denominator)
MAX_ROOT = 100  # a number to the power p/q: q at most this (the root SymPy tries to take exactly)
_LOG10_2 = math.log10(2)
_TOO_LARGE = 10**300  # a number at least this large is out of range for log10_bound


def log10_bound(expr: sp.Basic) -> float:
    """An upper estimate of log10 |value| at the points we evaluate (|z| < 10, K <= 8)."""
    # Every node the parser builds is bounded, its subtrees again each time: remembered per subtree
    # (a mutable matrix, which cannot be a key, is worked out each time).
    return _remembered_log10_bound(expr) if isinstance(expr, sp.Basic) else _log10_bound(expr)


@functools.lru_cache(maxsize=4096)
def _remembered_log10_bound(expr: sp.Basic) -> float:
    return _log10_bound(expr)


def _log10_bound(expr: sp.Basic) -> float:
    if isinstance(expr, sp.Rational):  # the same test in integers: SymPy's own comparison builds 10^300 each time
        return math.log10(max(abs(expr.p / expr.q), 1.0)) if abs(expr.p) < _TOO_LARGE * expr.q else math.inf
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


def digits(expr: sp.Basic) -> float:
    """An upper estimate of the decimal digits of the exact numbers in `expr` (numerators and
    denominators together), from bit lengths: no number is ever converted to text."""
    return _digits(expr.atoms(sp.Rational))


def _digits(numbers) -> float:
    return sum(max(abs(r.p).bit_length(), r.q.bit_length()) * _LOG10_2 for r in numbers if isinstance(r, sp.Rational))


_NOT_FINITE = frozenset({sp.zoo, sp.nan, sp.oo, -sp.oo})


def checked(expr: sp.Basic) -> sp.Basic:
    # Every node the parser builds is checked: one walk finds both the infinities and the exact numbers.
    numbers = _numbers(expr) if isinstance(expr, sp.Basic) else expr.atoms(sp.Number, type(sp.zoo))
    if numbers & _NOT_FINITE:
        raise ParseError("division by zero")
    if log10_bound(expr) > MAX_LOG10:
        raise ParseError("a number in the answer is out of range (its size is estimated beyond 10^300 or below 10^-300)")
    if _digits(numbers) > MAX_DIGITS:
        raise ParseError(f"the numbers in the answer have too many digits (more than {MAX_DIGITS})")
    return expr


def _numbers(expr: sp.Basic) -> frozenset:
    """expr.atoms(sp.Number, zoo), from its subtrees' sets: every node the parser builds is checked,
    so a walk of the whole tree at each node would visit the deep subtrees again at every level
    (a mutable matrix, which cannot be a key, is walked by `checked` itself)."""
    if isinstance(expr, (sp.Number, type(sp.zoo))):
        return frozenset((expr,))
    return _remembered_numbers(expr) if expr.args else frozenset()


@functools.lru_cache(maxsize=4096)
def _remembered_numbers(expr: sp.Basic) -> frozenset:
    return frozenset().union(*(_numbers(arg) if isinstance(arg, sp.Basic) else arg.atoms(sp.Number, type(sp.zoo))
                               for arg in expr.args))


def power(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    """base^exponent, refused before SymPy evaluates it if the estimated size is too large."""
    if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
        raise ParseError(f"the exponent {exponent} is too large (at most {MAX_EXPONENT})")
    size = log10_bound(base) * 10 ** min(log10_bound(exponent), 20)
    if exponent.is_Number:
        size = log10_bound(base) * abs(float(exponent))
    if size > MAX_LOG10 or log10_bound(exponent) > 4:
        raise ParseError("a power in the answer is too large (estimated above 10^300)")
    if exponent.is_Number and digits(base) * abs(float(exponent)) > MAX_DIGITS:
        raise ParseError(f"a power in the answer has too many digits (estimated above {MAX_DIGITS})")
    # (999999 sigma_i)^{0.999999} hangs too: SymPy pulls the number out of the product first.
    if exponent.is_Rational and exponent.q > MAX_ROOT and any(
            abs(r.p) > 1 or r.q > 1 for r in base.atoms(sp.Rational)):
        raise ParseError(f"the power {exponent} of an expression with numbers asks for a root of order "
                         f"{exponent.q} (at most {MAX_ROOT}); write the exponent as a simpler fraction")
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
