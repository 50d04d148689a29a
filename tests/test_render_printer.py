"""The printer writes products and sums in textbook order without changing the math."""
from __future__ import annotations

import pytest
import sympy as sp

from derive.render.printer import to_latex
from derive.symbols import K, i, j, k, sigma, y, z

D = sp.KroneckerDelta(i, j)
x, b, W, P, Y, X = (sp.IndexedBase(name) for name in ("x", "b", "W", "P", "Y", "X"))
O, dO, dP, dS, Kmat, Q = (sp.IndexedBase(name) for name in ("O", "dO", "dP", "dS", "Kmat", "Q"))
eps, T, S = sp.Symbol("epsilon"), sp.Symbol("T", positive=True), sp.Symbol("S", positive=True)
d, r, n = (sp.Symbol(name, integer=True, positive=True) for name in ("d", "r", "n"))
Dim, N = sp.Symbol("D", integer=True, positive=True), sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("expr,expected", [
    (sigma[i] * (D - sigma[j]), r"\sigma_{i} \left(\delta_{ij} - \sigma_{j}\right)"),
    (-y[k] * sp.log(sigma[k]), r"- y_{k} \log \sigma_{k}"),
    (-sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)), r"- \sum_{k=1}^{K} y_{k} \log \sigma_{k}"),
    (z[i] - sp.log(sigma[k]), r"z_{i} - \log \sigma_{k}"),
    (-sigma[i] ** 2 + sigma[i], r"\sigma_{i} - \sigma_{i}^{2}"),
    (sp.exp(z[i]) * D, r"\delta_{ij} e^{z_{i}}"),
    # Issue 15: the order people write, not SymPy's.
    (x[d] * (sigma[i] - y[i]), r"\left(\sigma_{i} - y_{i}\right) x_{d}"),
    (b[k] + sp.Sum(x[r] * W[k, r], (r, 1, Dim)), r"\sum_{r=1}^{D} W_{kr} x_{r} + b_{k}"),
    (sp.Sum(sigma[k] * W[k, d], (k, 1, K)) + sp.Sum(-y[k] * W[k, d], (k, 1, K)),
     r"\sum_{k=1}^{K} \sigma_{k} W_{kd} - \sum_{k=1}^{K} y_{k} W_{kd}"),
    # the step after it (the minus taken out of the sum) reads as the one sum it means, not as the same line again
    (sp.Sum(sigma[k] * W[k, d], (k, 1, K)) - sp.Sum(y[k] * W[k, d], (k, 1, K)),
     r"\sum_{k=1}^{K} W_{kd} \left(\sigma_{k} - y_{k}\right)"),
    ((sp.Sum(P[n, i], (n, 1, N)) - sp.Sum(Y[n, i], (n, 1, N))) / N,
     r"\frac{1}{N} \sum_{n=1}^{N} \left(P_{ni} - Y_{ni}\right)"),
    # The batched result: one sum of (P - Y) X, the mean's 1/N in front.
    ((sp.Sum(P[n, i] * X[n, d], (n, 1, N)) - sp.Sum(Y[n, i] * X[n, d], (n, 1, N))) / N,
     r"\frac{1}{N} \sum_{n=1}^{N} \left(P_{ni} - Y_{ni}\right) X_{nd}"),
    # ... and at N = 2: (1/2) ((P - Y) X + ...), not (P/2 - Y/2) X + ...
    ((P[1, 1] / 2 - Y[1, 1] / 2) * X[1, 1] + (P[2, 1] / 2 - Y[2, 1] / 2) * X[2, 1],
     r"\frac{1}{2} \left(\left(P_{11} - Y_{11}\right) X_{11} + \left(P_{21} - Y_{21}\right) X_{21}\right)"),
    (-(y[1] * sp.log(sigma[1]) + y[2] * sp.log(sigma[2])) / 2,
     r"- \frac{1}{2} \left(y_{1} \log \sigma_{1} + y_{2} \log \sigma_{2}\right)"),
    # No derivative inside a fraction: (y_k / sigma_k) d sigma_k / d z_i.
    (y[k] * sp.Derivative(sigma[k], z[i]) / sigma[k],
     r"\frac{y_{k}}{\sigma_{k}} \frac{\partial \sigma_{k}}{\partial z_{i}}"),
    # A scalar bracket leads: (1 - epsilon) y_i; a temperature's 1/T stands in front.
    (sigma[i] - (1 - eps) * y[i] - eps / K, r"\sigma_{i} - \left(1 - \epsilon\right) y_{i} - \frac{\epsilon}{K}"),
    (sigma[i] * (D - sigma[j]) / T, r"\frac{1}{T} \sigma_{i} \left(\delta_{ij} - \sigma_{j}\right)"),
    (sp.exp(z[1]) * (y[1] + y[2]) / S, r"\frac{e^{z_{1}}}{S} \left(y_{1} + y_{2}\right)"),
    # Attention: the upstream gradient leads (dO V^T), the scale 1/sqrt(D) stands before the sum.
    (P[n, j] * (dP[n, j] - sp.Sum(O[n, r] * dO[n, r], (r, 1, Dim))),
     r"P_{nj} \left(dP_{nj} - \sum_{r=1}^{D} dO_{nr} O_{nr}\right)"),
    (sp.Sum(dS[n, k] * Kmat[k, d], (k, 1, K)) / sp.sqrt(Dim), r"\frac{1}{\sqrt{D}} \sum_{k=1}^{K} dS_{nk} K_{kd}"),
    (Kmat[j, r] * Q[n, r], r"Q_{nr} K_{jr}"),
    # A surd keeps its fraction: the 1/sqrt(D) of attention is not a mean.
    (sp.sqrt(2) * (W[1, 1] * x[1] + W[1, 2] * x[2]) / 2, r"\frac{\sqrt{2} \left(W_{11} x_{1} + W_{12} x_{2}\right)}{2}"),
])
def test_textbook_order(expr, expected):
    assert to_latex(expr) == expected


def test_transposed_error_matrix():
    Pm, Ym, Xm = (sp.MatrixSymbol(name, N, K) for name in ("P", "Y", "X"))
    assert to_latex((Pm.T - Ym.T) * Xm / N) == r"\frac{1}{N} \left(\boldsymbol{P} - \boldsymbol{Y}\right)^{\top} \boldsymbol{X}"


def test_big_matrices_print_their_corners():
    matrix = sp.Matrix(9, 9, lambda r, c: sigma[r + 1] * sigma[c + 1])
    tex = to_latex(matrix)
    assert tex.count(r"\ddots") == 1 and r"\sigma_{9}^{2}" in tex and r"\sigma_{5}" not in tex


def test_small_matrices_print_in_full():
    tex = to_latex(sp.Matrix(3, 3, lambda r, c: sigma[r + 1] * sigma[c + 1]))
    assert r"\cdots" not in tex and r"\sigma_{2} \sigma_{3}" in tex


def test_long_sums_are_elided_in_the_middle():
    tex = to_latex(sp.Add(*[sp.exp(z[r]) for r in range(1, 20)]))
    assert tex == r"e^{z_{1}} + e^{z_{2}} + \cdots + e^{z_{19}}"


def test_explicit_matrices_use_display_fractions():
    tex = to_latex(sp.Matrix([[sp.exp(z[1]) / K, 0], [0, 1]]))
    assert r"\dfrac{e^{z_{1}}}{K}" in tex and to_latex(sp.exp(z[1]) / K) == r"\frac{e^{z_{1}}}{K}"


def test_no_step_prints_as_the_line_before_it():
    """A step whose display equals the previous line's is a step the reader cannot see (linear's
    'factor' step printed the same two sums twice)."""
    from doc_cases import small_K
    from derive import engine
    for name in engine.names():
        for size in (None, small_K(name)):
            steps = engine.build(name, size).steps
            for before, after in zip(steps, steps[1:]):
                if before.lhs == after.lhs:
                    assert to_latex(before.rhs) != to_latex(after.rhs), (name, size, after.rule)


# -- printing once what repeats (performance only: the text is the text SymPy's own printers give) --

def test_a_printed_form_is_reused_only_for_an_equal_expression_in_the_same_fraction_style():
    a = sp.Symbol("a")
    # x + 2 and x + 2.0 are different keys, though 2 == 2.0 as numbers
    assert to_latex(sp.ImmutableMatrix([[a + 2, a + sp.Float(2.0)]])) == \
        rf"\begin{{pmatrix}}{to_latex(a + 2)} & {to_latex(a + sp.Float(2.0))}\end{{pmatrix}}"
    # the same fraction prints script-size outside a matrix and display-size inside one
    pair = to_latex(sp.Tuple(sigma[i] / S, sp.ImmutableMatrix([[sigma[i] / S]])))
    assert r"\frac{\sigma_{i}}{S}" in pair and r"\dfrac{\sigma_{i}}{S}" in pair


def test_a_big_structured_matrix_prints_the_corners_of_its_explicit_form():
    from derive.engine.concrete import StructuredMatrix
    size = 9
    structured = StructuredMatrix([sigma[r] - sigma[r] ** 2 for r in range(size)],
                                  [-sigma[r] for r in range(size)], [sigma[c] for c in range(size)])
    tex = to_latex(structured)
    assert tex == to_latex(structured.as_explicit()) and r"\ddots" in tex and r"\sigma_{8}" in tex


def _shared_sum_vector(size: int, entries: int) -> sp.ImmutableMatrix:
    """softmax-vjp's shape: entry i is sigma_i (g_i - sum_k g_k sigma_k), one shared sum of `size` terms."""
    g = sp.IndexedBase("g")
    shared = sp.Add(*(g[k_] * sigma[k_] for k_ in range(size)))
    minus_shared = sp.Mul(-1, shared, evaluate=False)  # kept whole, as the engine keeps it
    return sp.ImmutableMatrix([sigma[e] * sp.Add(g[e], minus_shared) for e in range(entries)])


def test_srepr_in_the_json_is_sympys_srepr():
    from derive.render.serialize import _srepr
    for expr in (_shared_sum_vector(3, 3), _shared_sum_vector(700, 4), sp.Float(2.0) * x[1] + 2 * x[2]):
        assert _srepr(expr) == sp.srepr(expr)


def test_srepr_orders_the_shared_sum_once_and_leaves_sympy_as_it_was():
    """700 terms need more sort keys than SymPy's cache of 1000 holds: without the memo the shared sum's
    terms were re-ordered for every entry (counted, not timed)."""
    from derive.render import serialize
    bounded = sp.Expr.sort_key
    vector = _shared_sum_vector(700, 6)
    ordered: list = []
    original = sp.Add.as_ordered_terms

    def counting(self, *args, **kwargs):
        if len(self.args) >= 700:
            ordered.append(self)
        return original(self, *args, **kwargs)
    sp.Add.as_ordered_terms = counting
    try:
        serialize._srepr(vector)
        remembered = len(ordered)
        ordered.clear()
        sp.srepr(vector)
    finally:
        sp.Add.as_ordered_terms = original
    assert 1 <= remembered <= 3 < 6 <= len(ordered)  # a fixed number of times, not once per entry or more
    assert sp.Expr.sort_key is bounded
