"""What both verification strategies share: a step's outcome (evidence, or VerificationError), the
distance of two values, entry r of an elementwise column expression, sum_r y_r = 1 at a concrete K."""
from __future__ import annotations

import dataclasses

import mpmath
import sympy as sp

from ..errors import VerificationError
from ..model import Evidence, Step
from ..settings import TOLERANCE
from ..symbols import y

_TOLERANCE = mpmath.mpf(TOLERANCE)


def checked_step(step: Step, symbolic: bool | None, error, points: int) -> Step:
    """The step with its evidence, or VerificationError when the numbers or SymPy refute it."""
    if error > _TOLERANCE:
        raise VerificationError(
            f"step {step.rule.value} ({step.note}) fails numerically: |lhs - rhs| = {mpmath.nstr(error, 5)}")
    if symbolic is False:
        raise VerificationError(f"step {step.rule.value} ({step.note}): SymPy finds lhs - rhs != 0")
    return dataclasses.replace(step, evidence=Evidence(symbolic=symbolic, numeric_max_abs_error=float(error),
                                                       points=points))


def relative_error(a, b) -> mpmath.mpf:
    """|a - b|, relative to the size of the values once they exceed 1 (log-sums at |z| ~ 1000)."""
    return abs(a - b) / max(1, abs(a), abs(b))


def row(expr, index):
    """Entry `index` of an elementwise expression of column MatrixSymbols: log(sigma) -> log(sigma_index)."""
    if isinstance(expr, sp.MatrixSymbol):  # sigma itself, K times per Jacobian: the quick way
        return sp.IndexedBase(expr.name)[index]
    return expr.replace(lambda e: isinstance(e, sp.MatrixSymbol), lambda m: sp.IndexedBase(m.name)[index])


def explicit_targets_sum_to_one(expr, n):
    """Sum_r y_r = 1: the shared sum becomes 1; any y_n left over is 1 - y_1 - ... - y_{n-1}."""
    total = sp.Add(*[y[r] for r in range(1, n + 1)])
    expr = expr.xreplace({total: sp.Integer(1)})
    return expr.subs(y[n], 1 - sp.Add(*[y[r] for r in range(1, n)])) if expr.has(y[n]) else expr
