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


def log_softmax_jacobian(n: int) -> bool:
    z, probs = _setup(n)
    return all(sp.cancel(sp.diff(sp.log(probs[r]), z[c]) - ((1 if r == c else 0) - probs[c])) == 0
               for r in range(n) for c in range(n))


def softmax_vjp(n: int) -> bool:
    z, probs = _setup(n)
    g = sp.symbols(f"g1:{n + 1}", real=True)
    loss = sum(a * p for a, p in zip(g, probs))  # any loss with upstream gradient g has this dL/dz
    inner = sum(a * p for a, p in zip(g, probs))
    return all(sp.cancel(sp.diff(loss, z[c]) - probs[c] * (g[c] - inner)) == 0 for c in range(n))


def temperature_softmax_jacobian(n: int) -> bool:
    z = sp.symbols(f"z1:{n + 1}", real=True)
    T = sp.Symbol("T", positive=True)
    denominator = sum(sp.exp(v / T) for v in z)
    probs = [sp.exp(v / T) / denominator for v in z]
    return all(sp.cancel(sp.diff(probs[r], z[c]) - probs[r] * ((1 if r == c else 0) - probs[c]) / T) == 0
               for r in range(n) for c in range(n))


def label_smoothing_gradient(n: int) -> bool:
    z, probs = _setup(n)
    y = sp.symbols(f"y1:{n + 1}", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    smoothed = [(1 - eps) * t + eps / n for t in y]
    loss = -sum(q * sp.log(p) for q, p in zip(smoothed, probs))
    # the closed form before sum(y) = 1 is used: sigma_c sum(q) - q_c
    return all(sp.cancel(sp.diff(loss, z[c]) - (probs[c] * sum(smoothed) - smoothed[c])) == 0 for c in range(n))


def logsumexp_gradient(n: int) -> bool:
    z, probs = _setup(n)
    total = sp.log(sum(sp.exp(v) for v in z))
    return all(sp.cancel(sp.diff(total, z[c]) - probs[c]) == 0 for c in range(n))


def cross_entropy_hessian(n: int) -> bool:
    z, probs = _setup(n)
    y = sp.symbols(f"y1:{n + 1}", real=True)
    loss = -sum(t * sp.log(p) for t, p in zip(y, probs))
    gradient = [sp.diff(loss, v) for v in z]
    return all(sp.cancel(sp.diff(gradient[r], z[c]) - sum(y) * probs[r] * ((1 if r == c else 0) - probs[c])) == 0
               for r in range(n) for c in range(n))


BY_NAME = {"softmax-jacobian": softmax_jacobian, "log-softmax-jacobian": log_softmax_jacobian,
           "cross-entropy-gradient": cross_entropy_gradient, "softmax-vjp": softmax_vjp,
           "temperature-softmax-jacobian": temperature_softmax_jacobian,
           "label-smoothing-gradient": label_smoothing_gradient, "logsumexp-gradient": logsumexp_gradient,
           "cross-entropy-hessian": cross_entropy_hessian}
