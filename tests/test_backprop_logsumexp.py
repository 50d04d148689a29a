"""logsumexp-gradient against mpmath.diff and NumPy finite differences; the stable forms at |z| ~ 1000."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.reference import logsumexp_gradient as reference
from derive.symbols import K as K_SYMBOL, M, i, sigma, z
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import (as_mpf, finite_difference_gradient, gradient_by_mpmath_diff, instantiate_values,
                     random_logits, softmax_mp)

NAME = "logsumexp-gradient"
TOL = mpmath.mpf("1e-9")


def _lse(zs):
    return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zs))


@pytest.mark.parametrize("K, n", [(None, 3), (None, 5), (3, 3), (4, 4)])
def test_json_results_match_mpmath(K, n):
    rng = random.Random(13 * n)
    results = json_results(NAME, K)
    zs = random_logits(rng, n, scale=20)
    expected = gradient_by_mpmath_diff(_lse, zs)
    arrays = {sigma: softmax_mp(zs), z: zs}
    for r in range(n):
        scalars = {K_SYMBOL: n, i: r + 1} if K is None else {}
        pick = (lambda e: e) if K is None else (lambda e: e[r, 0])
        gradient = as_mpf(instantiate_values(pick(results["result"]), scalars=scalars, arrays=arrays))
        assert abs(gradient - expected[r]) < TOL
        stable = as_mpf(instantiate_values(pick(results["stable-softmax"]), scalars={**scalars, M: max(zs)},
                                           arrays=arrays))
        assert abs(stable - expected[r]) < TOL


def test_reference_matches_finite_differences_and_survives_large_logits():
    rng = np.random.default_rng(2)
    z = rng.normal(size=6) * 3
    numeric = finite_difference_gradient(lambda v: reference.forward(np.array(v)), list(z))
    assert np.allclose(reference.backward(z), numeric, atol=1e-7)
    big = z + 1000.0
    with np.errstate(over="ignore"):
        assert np.isinf(reference.naive_forward(big))  # why the max is subtracted
    assert np.isclose(reference.forward(big), reference.forward(z) + 1000.0)  # shift moves lse by c
    assert np.allclose(reference.backward(big), reference.backward(z))  # the softmax does not move


@pytest.mark.parametrize("K", [None, 2, 4])
def test_every_step_verified_and_proved(K):
    for step in verified(NAME, K).steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
        assert step.evidence.symbolic is True, step.rule


def test_a_wrong_stable_form_is_rejected():
    """Subtracting M in the numerator only is a classic bug; the verifier must catch it."""
    d = _unverified(NAME)
    steps = list(d.steps)
    index = next(n for n, s in enumerate(steps) if s.rule.value == "stable-evaluation")
    wrong = sp.exp(z[i] - M) / sp.Sum(sp.exp(z[sp.Symbol("k", integer=True, positive=True)]),
                                      (sp.Symbol("k", integer=True, positive=True), 1, K_SYMBOL))
    steps[index] = dataclasses.replace(steps[index], rhs=wrong, evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[index])
