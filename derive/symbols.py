"""Canonical SymPy symbols shared by every derivation, and the softmax written out in them.

The names here are the JSON contract (`result.sympy`): notation changes printing, never these.
"""
from __future__ import annotations

import sympy as sp

# Index symbols are positive integers: everything is 1-based, 1 <= i, j, k <= K.
K = sp.Symbol("K", integer=True, positive=True)
i, j, k = sp.symbols("i j k", integer=True, positive=True)

z = sp.IndexedBase("z")  # logits
sigma = sp.IndexedBase("sigma")  # softmax outputs (probabilities)
y = sp.IndexedBase("y")  # targets

# A summation dummy that no derivation uses as a free index: substituting a definition under
# a sum over k must not capture k (sympy#21891).
m = sp.Symbol("m", integer=True, positive=True)

L = sp.Symbol("L")  # the loss, a scalar


def softmax_denominator(dummy: sp.Symbol = k) -> sp.Sum:
    """Sum_{dummy=1}^{K} e^{z_dummy}."""
    return sp.Sum(sp.exp(z[dummy]), (dummy, 1, K))


def softmax_entry(index: sp.Expr, *, dummy: sp.Symbol = k) -> sp.Expr:
    """e^{z_index} / Sum_dummy e^{z_dummy}, with a dummy that cannot capture `index`."""
    if isinstance(index, sp.Basic) and dummy in index.free_symbols:
        dummy = m
    return sp.exp(z[index]) / softmax_denominator(dummy)


def logits_vector(n: int) -> sp.Matrix:
    """(z_1, ..., z_n)^T for a concrete number of classes."""
    return sp.Matrix([z[r] for r in range(1, n + 1)])


def probs_vector(n: int) -> sp.Matrix:
    return sp.Matrix([sigma[r] for r in range(1, n + 1)])


def targets_vector(n: int) -> sp.Matrix:
    return sp.Matrix([y[r] for r in range(1, n + 1)])


def explicit_softmax(n: int) -> sp.Matrix:
    """The softmax of (z_1..z_n) written out: entry r is e^{z_r} / (e^{z_1} + ... + e^{z_n})."""
    denominator = sp.Add(*[sp.exp(z[r]) for r in range(1, n + 1)])
    return sp.Matrix([sp.exp(z[r]) / denominator for r in range(1, n + 1)])


def softmax_definitions(expr: sp.Basic, *, n: int | None = None) -> sp.Basic:
    """Replace every sigma[x] by its definition in z: a Sum for symbolic K (with a dummy that
    cannot capture x), the written-out quotient for a concrete K = n."""
    explicit = explicit_softmax(n) if n is not None else None
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == sigma,
        lambda e: softmax_entry(e.indices[0]) if explicit is None else explicit[int(e.indices[0]) - 1],
    )


# --- backpropagation: upstream gradients, linear layers, batches ---------------------------------------------------------------
D = sp.Symbol("D", integer=True, positive=True)  # input dimension
N = sp.Symbol("N", integer=True, positive=True)  # batch size
d = sp.Symbol("d", integer=True, positive=True)  # feature index, 1 <= d <= D
n = sp.Symbol("n", integer=True, positive=True)  # example index, 1 <= n <= N

g = sp.IndexedBase("g")  # upstream gradient dL/dsigma
v = sp.IndexedBase("v")  # an arbitrary direction (quadratic forms)
x = sp.IndexedBase("x")  # input of a linear layer
W = sp.IndexedBase("W")  # weights, W[k, d]
b = sp.IndexedBase("b")  # bias
X = sp.IndexedBase("X")  # batched inputs, X[n, d]
Y = sp.IndexedBase("Y")  # batched targets, Y[n, k]
P = sp.IndexedBase("P")  # batched probabilities, P[n, k]
Z = sp.IndexedBase("Z")  # batched logits, Z[n, k]

T = sp.Symbol("T", positive=True)  # temperature
epsilon = sp.Symbol("epsilon", nonnegative=True)  # label-smoothing weight
c = sp.Symbol("c", real=True)  # a shift of every logit
M = sp.Symbol("M", real=True)  # max_k z_k
u = sp.Symbol("u", real=True)  # z_1 - z_2 (binary logit)


def scaled_softmax_entry(index: sp.Expr, scale: sp.Expr, *, dummy: sp.Symbol = k) -> sp.Expr:
    """e^{scale z_index} / Sum_dummy e^{scale z_dummy} (scale = 1/T for a temperature)."""
    if isinstance(index, sp.Basic) and dummy in index.free_symbols:  # as softmax_entry: no sympify
        dummy = m
    return sp.exp(scale * z[index]) / sp.Sum(sp.exp(scale * z[dummy]), (dummy, 1, K))


def explicit_scaled_softmax(size: int, scale: sp.Expr) -> sp.Matrix:
    denominator = sp.Add(*[sp.exp(scale * z[r]) for r in range(1, size + 1)])
    return sp.Matrix([sp.exp(scale * z[r]) / denominator for r in range(1, size + 1)])
q = sp.IndexedBase("q")  # smoothed targets (1 - epsilon) y + epsilon / K
