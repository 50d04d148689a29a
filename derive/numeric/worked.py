"""A worked example at K = 3: a derivation's explicit result at given numbers, checked by finite differences.

The numbers are CS231n's kind: probabilities p = (0.2, 0.3, 0.5) (logits z = log p) and the one-hot
target of class 2. The result matrix is the derivation's own (SymPy's, evaluated at the point); the
check differentiates the forward pass numerically (mpmath.diff), independently of the derivation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mpmath
import sympy as sp

from ..errors import VerificationError
from ..model import Derivation
from .softmax import stable_softmax

PROBS = ("0.2", "0.3", "0.5")
TARGET_CLASS = 2  # 1-based: y = (0, 1, 0)
TOLERANCE = mpmath.mpf("1e-20")


def _cross_entropy(logits, targets):
    return -mpmath.fsum(t * mpmath.log(p) for t, p in zip(targets, stable_softmax(logits)) if t)


def _entries_of(fn: Callable, logits, targets, order: int) -> list[list]:
    """Numeric derivatives: order 1 of a vector function (a Jacobian), or order 2 of a scalar (a Hessian)."""
    n = len(logits)

    def partial(f, orders):
        return mpmath.diff(lambda *zs: f(list(zs), targets), logits, orders)
    if order == 1:
        outputs = len(fn(logits, targets))
        return [[partial(lambda z, t, r=r: fn(z, t)[r], tuple(int(c == s) for s in range(n))) for c in range(n)]
                for r in range(outputs)]
    return [[partial(fn, tuple((r == s) + (c == s) for s in range(n))) for c in range(n)] for r in range(n)]


# name -> (forward pass, derivative order): what the derivation's result is the derivative of.
FORWARD: dict[str, tuple[Callable, int]] = {
    "softmax-jacobian": (lambda z, t: stable_softmax(z), 1),
    "log-softmax-jacobian": (lambda z, t: [mpmath.log(p) for p in stable_softmax(z)], 1),
    "cross-entropy-gradient": (lambda z, t: [_cross_entropy(z, t)], 1),
    "cross-entropy-hessian": (_cross_entropy, 2),
}


@dataclass(frozen=True)
class WorkedExample:
    probs: tuple
    targets: tuple
    result: tuple[tuple, ...]  # rows of the result at the point (a gradient is one column)


def worked_example(derivation: Derivation) -> WorkedExample | None:
    """The derivation's K = 3 result at p = (0.2, 0.3, 0.5), y = e_2, after a finite-difference check;
    None for a derivation without a forward pass here."""
    if derivation.name not in FORWARD or derivation.K != len(PROBS):
        return None
    with mpmath.workdps(50):
        probs = [mpmath.mpf(p) for p in PROBS]
        targets = [mpmath.mpf(int(r == TARGET_CLASS)) for r in range(1, len(PROBS) + 1)]
        logits = [mpmath.log(p) for p in probs]
        point = {sp.IndexedBase("sigma")[r + 1]: sp.Float(str(probs[r]), 50) for r in range(len(probs))}
        point.update({sp.IndexedBase("y")[r + 1]: sp.Integer(int(targets[r])) for r in range(len(probs))})
        derived = sp.Matrix(derivation.result).xreplace(point)
        result = [[mpmath.mpf(str(derived[r, c])) for c in range(derived.cols)] for r in range(derived.rows)]
        forward, order = FORWARD[derivation.name]
        numeric = _entries_of(forward, logits, targets, order)
        if derived.cols == 1:  # a gradient: the numeric Jacobian of the scalar loss is one row
            numeric = [[value] for value in numeric[0]]
        worst = max(abs(a - b) for row_a, row_b in zip(result, numeric) for a, b in zip(row_a, row_b))
        if worst > TOLERANCE:
            raise VerificationError(f"{derivation.name}: the worked example disagrees with finite differences by {worst}")
        return WorkedExample(tuple(probs), tuple(targets), tuple(tuple(row) for row in result))
