"""The plain-SymPy way, as a CAS user would do it: the baseline every bench ratio is taken against.

Differentiate each entry of the explicit softmax (or the explicit cross-entropy loss) and prove each
equal to its closed form with `cancel`. This is what issue 7 measured at 1.4 s (K=16) .. 386 s (K=128).
"""
from __future__ import annotations

import sympy as sp


def _setup(n: int):
    z = sp.symbols(f"z1:{n + 1}", real=True)
    denominator = sum(sp.exp(v) for v in z)
    probs = [sp.exp(v) / denominator for v in z]
    return z, probs


def softmax_jacobian(n: int) -> bool:
    z, probs = _setup(n)
    ok = True
    for r in range(n):
        for c in range(n):
            derivative = sp.diff(probs[r], z[c])
            closed = probs[r] * ((1 if r == c else 0) - probs[c])
            ok &= sp.cancel(derivative - closed) == 0
    return ok


def cross_entropy_gradient(n: int) -> bool:
    z, probs = _setup(n)
    y = sp.symbols(f"y1:{n + 1}", real=True)
    loss = -sum(t * sp.log(p) for t, p in zip(y, probs))
    ok = True
    for c in range(n):
        derivative = sp.diff(loss, z[c])
        closed = probs[c] * sum(y) - y[c]  # sigma_c - y_c once sum(y) = 1
        ok &= sp.cancel(derivative - closed) == 0
    return ok
