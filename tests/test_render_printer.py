"""The printer writes products and sums in textbook order without changing the math."""
from __future__ import annotations

import pytest
import sympy as sp

from derive.render.printer import to_latex
from derive.symbols import K, i, j, k, sigma, y, z

D = sp.KroneckerDelta(i, j)


@pytest.mark.parametrize("expr,expected", [
    (sigma[i] * (D - sigma[j]), r"\sigma_{i} \left(\delta_{ij} - \sigma_{j}\right)"),
    (-y[k] * sp.log(sigma[k]), r"- y_{k} \log \sigma_{k}"),
    (-sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)), r"- \sum_{k=1}^{K} y_{k} \log \sigma_{k}"),
    (z[i] - sp.log(sigma[k]), r"z_{i} - \log \sigma_{k}"),
    (-sigma[i] ** 2 + sigma[i], r"\sigma_{i} - \sigma_{i}^{2}"),
    (sp.exp(z[i]) * D, r"\delta_{ij} e^{z_{i}}"),
])
def test_textbook_order(expr, expected):
    assert to_latex(expr) == expected


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
