"""temperature-softmax-jacobian against mpmath.diff of softmax(z / T) and NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.reference import temperature_softmax_jacobian as reference
from derive.symbols import K as K_SYMBOL, T, i, j, sigma
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import as_mpf, instantiate_values, jacobian_by_mpmath_diff, random_logits, softmax_mp

NAME = "temperature-softmax-jacobian"
TOL = mpmath.mpf("1e-9")


@pytest.mark.parametrize("K, n", [(None, 3), (None, 4), (3, 3), (4, 4)])
@pytest.mark.parametrize("temperature", ["0.5", "3"])
def test_json_result_matches_mpmath_diff(K, n, temperature):
    rng = random.Random(n)
    temp = mpmath.mpf(temperature)
    result = json_results(NAME, K)["result"]
    zs = random_logits(rng, n)
    expected = jacobian_by_mpmath_diff(lambda v: softmax_mp([t / temp for t in v]), zs)
    arrays = {sigma: softmax_mp([t / temp for t in zs])}
    for r in range(n):
        for c in range(n):
            entry = result if K is None else result[r, c]
            scalars = {T: temp, **({K_SYMBOL: n, i: r + 1, j: c + 1} if K is None else {})}
            assert abs(as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays)) - expected[r][c]) < TOL


@pytest.mark.parametrize("K", [12, 64])
def test_concrete_result_at_larger_K_matches_mpmath_diff(K):
    """The fast concrete path (engine over S with z / T, verify.concrete): sampled entries against the oracle."""
    rng = random.Random(K)
    temp = mpmath.mpf("0.7")
    result = verified(NAME, K).result
    zs = random_logits(rng, K)
    probs = softmax_mp([t / temp for t in zs])
    arrays = {sigma: probs}
    for r, c in ((0, 0), (0, K - 1), (K // 2, K // 2), (K - 1, 3)):
        expected = mpmath.diff(lambda v: softmax_mp([(v if m == c else t) / temp for m, t in enumerate(zs)])[r], zs[c])
        value = as_mpf(instantiate_values(result[r, c], scalars={T: temp}, arrays=arrays))
        assert abs(value - expected) < TOL


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(5)
    z, up, h = rng.normal(size=4) * 3, rng.normal(size=4), 1e-6
    for temperature in (0.3, 1.0, 5.0):
        numeric = np.array([(reference.forward(z + h * e, temperature) - reference.forward(z - h * e, temperature))
                            / (2 * h) for e in np.eye(4)]).T
        assert np.allclose(reference.jacobian(z, temperature), numeric, atol=1e-7)
        assert np.allclose(reference.backward(z, temperature, up), numeric.T @ up, atol=1e-7)


@pytest.mark.parametrize("K", [None, 2, 4])
def test_every_step_verified_and_proved(K):
    for step in verified(NAME, K).steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
        assert step.evidence.symbolic is True, step.rule


def test_forgetting_the_temperature_is_rejected():
    """The plain softmax Jacobian (no 1/T) must fail: test points use T != 1 for sigma = softmax(z/T)."""
    d = _unverified(NAME)
    steps = list(d.steps)
    index = next(n for n, s in enumerate(steps) if s.rule.value == "factor")
    steps[index] = dataclasses.replace(steps[index], rhs=sigma[i] * (sp.KroneckerDelta(i, j) - sigma[j]),
                                       evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[index])
