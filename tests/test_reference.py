"""The NumPy reference code shown in the documents agrees with the symbolic result and finite differences."""
from __future__ import annotations

import random

import numpy as np
import pytest

import derive
from derive.reference import cross_entropy_gradient, log_softmax_jacobian, softmax_jacobian
from derive.render.context import reference_source
from oracles import instantiate

SIZES = (2, 3, 7)


def symbolic_matrix(name: str, n: int, probs, targets=None) -> np.ndarray:
    """The symbolic-K result instantiated entry by entry with SymPy's own substitution."""
    result = derive.derive(name).result
    rows = n if name != "cross-entropy-gradient" else 1
    out = np.zeros((n, n) if rows == n else n)
    for r in range(1, n + 1):
        for c in range(1, (n if rows == n else 1) + 1):
            value = float(instantiate(result, n=n, probs=probs, targets=targets, i=r, j=c))
            if rows == n:
                out[r - 1, c - 1] = value
            else:
                out[r - 1] = value
    return out


def finite_differences(fn, z, h=1e-6) -> np.ndarray:
    cols = [(fn(z + h * e) - fn(z - h * e)) / (2 * h) for e in np.eye(z.size)]
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("n", SIZES)
def test_softmax_reference(n):
    z = np.array([random.Random(n).uniform(-3, 3) for _ in range(n)])
    sigma = softmax_jacobian.forward(z)
    assert np.isclose(sigma.sum(), 1)
    jac = softmax_jacobian.jacobian(sigma)
    np.testing.assert_allclose(jac, symbolic_matrix("softmax-jacobian", n, list(sigma)), atol=1e-12)
    np.testing.assert_allclose(jac, finite_differences(softmax_jacobian.forward, z), atol=1e-8)
    g = np.arange(1.0, n + 1)
    np.testing.assert_allclose(softmax_jacobian.backward(sigma, g), jac.T @ g, atol=1e-12)


@pytest.mark.parametrize("n", SIZES)
def test_log_softmax_reference(n):
    z = np.array([random.Random(10 + n).uniform(-3, 3) for _ in range(n)])
    log_sigma = log_softmax_jacobian.forward(z)
    jac = log_softmax_jacobian.jacobian(log_sigma)
    np.testing.assert_allclose(jac, symbolic_matrix("log-softmax-jacobian", n, list(np.exp(log_sigma))), atol=1e-12)
    np.testing.assert_allclose(jac, finite_differences(log_softmax_jacobian.forward, z), atol=1e-8)
    g = np.linspace(-1, 1, n)
    np.testing.assert_allclose(log_softmax_jacobian.backward(log_sigma, g), jac.T @ g, atol=1e-12)


@pytest.mark.parametrize("n", SIZES)
def test_cross_entropy_reference(n):
    rng = random.Random(20 + n)
    z = np.array([rng.uniform(-3, 3) for _ in range(n)])
    y = np.array([rng.uniform(0.05, 1) for _ in range(n)])
    y /= y.sum()
    grad = cross_entropy_gradient.backward(z, y)
    sigma = softmax_jacobian.forward(z)
    np.testing.assert_allclose(grad, symbolic_matrix("cross-entropy-gradient", n, list(sigma), list(y)), atol=1e-12)
    np.testing.assert_allclose(grad, finite_differences(lambda v: cross_entropy_gradient.forward(v, y), z), atol=1e-8)


def test_reference_is_stable_at_extreme_logits():
    z = np.array([1000.0, -1000.0, 999.0])
    assert np.all(np.isfinite(softmax_jacobian.forward(z)))
    assert np.all(np.isfinite(cross_entropy_gradient.backward(z, np.array([0, 0, 1.0]))))


@pytest.mark.parametrize("name", ["softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient"])
def test_documents_show_the_tested_source_verbatim(name):
    from derive.render.documents import render
    source = reference_source(name)
    assert "def forward" in source and "def backward" in source
    assert source in render(derive.derive(name), "markdown")
    assert source in render(derive.derive(name), "latex")


@pytest.mark.parametrize("name", [name for name, _ in derive.available()])
def test_the_chinese_listing_is_the_same_code(name):
    """The zh listing differs only in docstrings and comments: its syntax tree without docstrings is the English one."""
    import ast

    def code(source: str) -> str:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        return ast.dump(tree)
    zh = reference_source(name, "zh")
    assert code(zh) == code(reference_source(name)) and zh != reference_source(name)
    assert "in NumPy" not in zh
