"""softmax-vjp against independent oracles: mpmath.diff of <g, softmax(z)>, NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.reference import softmax_vjp as reference
from derive.symbols import K as K_SYMBOL, g, i, sigma
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import (as_mpf, finite_difference_gradient, gradient_by_mpmath_diff, instantiate_values,
                     random_logits, softmax_mp)

NAME = "softmax-vjp"
TOL = mpmath.mpf("1e-9")


def _oracle(zs, gs):
    return gradient_by_mpmath_diff(lambda v: mpmath.fsum(a * b for a, b in zip(gs, softmax_mp(v))), zs)


@pytest.mark.parametrize("K, n", [(None, 3), (None, 5), (3, 3), (4, 4)])
def test_json_result_matches_mpmath_diff(K, n):
    rng = random.Random(7 * n + (K or 0))
    result = json_results(NAME, K)["result"]
    for _ in range(2):
        zs, gs = random_logits(rng, n), random_logits(rng, n)
        expected = _oracle(zs, gs)
        arrays = {sigma: softmax_mp(zs), g: gs}
        for r in range(n):
            entry = result if K is None else result[r, 0]
            scalars = {K_SYMBOL: n, i: r + 1} if K is None else {}
            value = as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays))
            assert abs(value - expected[r]) < TOL


@pytest.mark.parametrize("K", [12, 64])
def test_concrete_result_at_larger_K_matches_mpmath_diff(K):
    """The fast concrete path (engine over S, verify.concrete): its result against the oracle."""
    rng = random.Random(K)
    result = verified(NAME, K).result
    zs, gs = random_logits(rng, K), random_logits(rng, K)
    expected = _oracle(zs, gs)
    arrays = {sigma: softmax_mp(zs), g: gs}
    for r in (0, 1, K // 2, K - 1):
        assert abs(as_mpf(instantiate_values(result[r, 0], scalars={}, arrays=arrays)) - expected[r]) < TOL


@pytest.mark.parametrize("shift", [0.0, 800.0])
def test_reference_backward_matches_finite_differences(shift):
    rng = np.random.default_rng(3)
    z = rng.normal(size=5) + shift
    up = rng.normal(size=5)
    numeric = finite_difference_gradient(lambda v: float(np.dot(up, reference.forward(np.array(v)))), list(z))
    assert np.allclose(reference.backward(z, up), numeric, atol=1e-7)


@pytest.mark.parametrize("K", [None, 2, 4])
def test_every_step_verified(K):
    d = verified(NAME, K)
    for step in d.steps:
        assert step.evidence is not None and step.evidence.points > 0
        assert step.evidence.numeric_max_abs_error < 1e-25
    proved = sum(1 for s in d.steps if s.evidence.symbolic)
    # symbolic K: every entry step is proved; the vector form (a Hadamard product of symbolic size)
    # rests on numbers plus SymPy's entry check at K = 2, 3, 4.
    assert proved >= len(d.steps) - (1 if K is None else 0)


def test_result_is_the_closed_form():
    result = verified(NAME).result
    total = sp.Sum(g[sp.Symbol("k", integer=True, positive=True)] * sigma[sp.Symbol("k", integer=True,
                                                                                        positive=True)],
                   (sp.Symbol("k", integer=True, positive=True), 1, K_SYMBOL))
    assert sp.expand(result - sigma[i] * (g[i] - total)) == 0


def test_a_wrong_step_is_rejected():
    """Dropping the <g, sigma> term must fail verification (the verifier can fail)."""
    d = _unverified(NAME)
    steps = list(d.steps)
    steps[-2] = dataclasses.replace(steps[-2], rhs=sigma[i] * g[i], evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[-2])
