"""What both verification strategies share: a step's outcome (evidence, or VerificationError), the
distance of two values, and entry r of an elementwise column expression."""
from __future__ import annotations

import dataclasses

import mpmath
import sympy as sp

from ..errors import VerificationError
from ..model import Evidence, Step
from ..settings import TOLERANCE

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
