"""Independent numeric oracles: plain mpmath/float code that shares nothing with derive's evaluator."""
from __future__ import annotations

import math
import random

import mpmath
import sympy as sp

from derive.symbols import K as K_SYMBOL, i as I, j as J, sigma, y as Y


def softmax_mp(z):
    top = max(z)
    e = [mpmath.exp(v - top) for v in z]
    s = mpmath.fsum(e)
    return [v / s for v in e]


def cross_entropy_mp(z, y):
    p = softmax_mp(z)
    return -mpmath.fsum(t * mpmath.log(q) for t, q in zip(y, p))


def perturbed(z, position, t):
    out = list(z)
    out[position] = t
    return out


def jacobian_by_mpmath_diff(fn, z):
    """J[r][c] = d fn(z)[r] / d z_c with mpmath.diff."""
    n = len(z)
    return [[mpmath.diff(lambda t: fn(perturbed(z, c, t))[r], z[c]) for c in range(n)] for r in range(n)]


def gradient_by_mpmath_diff(fn, z):
    return [mpmath.diff(lambda t: fn(perturbed(z, c, t)), z[c]) for c in range(len(z))]


def softmax_float(z):
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = sum(e)
    return [v / s for v in e]


def jacobian_by_finite_differences(fn, z, h=1e-6):
    n = len(z)
    cols = []
    for c in range(n):
        plus, minus = fn(perturbed(z, c, z[c] + h)), fn(perturbed(z, c, z[c] - h))
        cols.append([(a - b) / (2 * h) for a, b in zip(plus, minus)])
    return [[cols[c][r] for c in range(n)] for r in range(n)]


def random_logits(rng: random.Random, n: int, scale=3.0):
    return [mpmath.mpf(rng.uniform(-scale, scale)) for _ in range(n)]


def random_simplex(rng: random.Random, n: int):
    raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(n)]
    s = mpmath.fsum(raw)
    return [v / s for v in raw]


def instantiate(expr: sp.Basic, *, n: int, probs, targets=None, i=None, j=None) -> sp.Basic:
    """Plug numbers into a result with SymPy's own substitution (not derive's evaluator)."""
    mapping = {K_SYMBOL: n}
    if i is not None:
        mapping[I] = i
    if j is not None:
        mapping[J] = j
    expr = expr.xreplace({k: sp.Integer(v) for k, v in mapping.items()})
    values = {sigma[r + 1]: sp.Float(str(probs[r]), 60) for r in range(n)}
    if targets is not None:
        values.update({Y[r + 1]: sp.Float(str(targets[r]), 60) for r in range(n)})
    return expr.doit().xreplace(values)


# --- backpropagation: upstream gradients, linear layers, batches -----------------------------------------------------------------

def instantiate_values(expr: sp.Basic, *, scalars: dict, arrays: dict) -> sp.Basic:
    """Plug numbers into a result with SymPy's own substitution: scalars {Symbol: number} first
    (sizes and free indices, so Sums can be done), then arrays {IndexedBase: list or list of rows},
    1-based as in the trees."""
    expr = expr.xreplace({s: sp.Integer(v) if isinstance(v, int) else sp.Float(str(v), 60)
                          for s, v in scalars.items()}).doit()
    values = {}
    for base, data in arrays.items():
        for r, row in enumerate(data):
            if isinstance(row, (list, tuple)):
                for c, value in enumerate(row):
                    values[base[r + 1, c + 1]] = sp.Float(str(value), 60)
            else:
                values[base[r + 1]] = sp.Float(str(row), 60)
    return expr.xreplace(values)


def as_mpf(value: sp.Basic):
    return mpmath.mpf(str(sp.N(value, 50)))


def finite_difference_gradient(fn, point, h=1e-6):
    """Central differences of a float function of a flat list."""
    out = []
    for c in range(len(point)):
        plus, minus = list(point), list(point)
        plus[c] += h
        minus[c] -= h
        out.append((fn(plus) - fn(minus)) / (2 * h))
    return out
