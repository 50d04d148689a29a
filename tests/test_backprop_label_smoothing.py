"""label-smoothing-gradient against mpmath.diff of the smoothed cross-entropy and NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.model import Rule
from derive.reference import label_smoothing_gradient as reference
from derive.symbols import K as K_SYMBOL, epsilon, i, sigma, y
from backprop_helpers import verify_one, with_entry
from derive.engine import build as _unverified
from derive.verify import verify_derivation
from derive.verify.concrete import Prover
from oracles import (as_mpf, finite_difference_gradient, gradient_by_mpmath_diff, instantiate_values,
                     random_logits, random_simplex, softmax_mp)

NAME = "label-smoothing-gradient"
TOL = mpmath.mpf("1e-9")


def _loss(zs, ys, eps):
    n = len(zs)
    return -mpmath.fsum(((1 - eps) * t + eps / n) * mpmath.log(p) for t, p in zip(ys, softmax_mp(zs)))


@pytest.mark.parametrize("K, n", [(None, 3), (None, 5), (3, 3), (4, 4)])
def test_json_result_matches_mpmath_diff(K, n):
    rng = random.Random(11 * n)
    result = json_results(NAME, K)["result"]
    for eps in (mpmath.mpf("0.1"), mpmath.mpf("0.3")):
        zs, ys = random_logits(rng, n), random_simplex(rng, n)
        expected = gradient_by_mpmath_diff(lambda v: _loss(v, ys, eps), zs)
        arrays = {sigma: softmax_mp(zs), y: ys}
        for r in range(n):
            entry = result if K is None else result[r, 0]
            scalars = {epsilon: eps, **({K_SYMBOL: n, i: r + 1} if K is None else {})}
            assert abs(as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays)) - expected[r]) < TOL


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(8)
    z = rng.normal(size=5) * 2
    y = rng.dirichlet(np.ones(5))
    for eps in (0.0, 0.1, 0.5):
        numeric = finite_difference_gradient(lambda v: reference.forward(np.array(v), y, eps), list(z))
        assert np.allclose(reference.backward(z, y, eps), numeric, atol=1e-7)


@pytest.mark.parametrize("K", [None, 2, 4])
def test_every_step_verified(K):
    d = verified(NAME, K)
    for step in d.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    # only the side chain's linearity step (sum of a sum) is left to the numbers for symbolic K
    assert sum(1 for s in d.steps if s.evidence.symbolic) >= len(d.steps) - (1 if K is None else 0)


def test_plain_cross_entropy_answer_is_rejected():
    """sigma_i - y_i (forgetting the smoothing) must fail verification."""
    d = _unverified(NAME)
    steps = list(d.steps)
    steps[-2] = dataclasses.replace(steps[-2], rhs=sigma[i] - y[i], evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[-2])


# --- a large K: every entry proved over S (verify.concrete), and a wrong entry is not carried along ---------

LARGE_K = 64


def test_every_step_is_proved_at_a_large_K():
    d = verified(NAME, LARGE_K)
    assert all(step.evidence.symbolic is True for step in d.steps), [s.rule for s in d.steps]
    n = LARGE_K
    assert d.result[n - 1, 0] == sigma[n] - (1 - epsilon) * y[n] - epsilon / n


@pytest.mark.parametrize("wrong", [
    lambda n: sigma[n] - (1 - epsilon) * y[n - 1] - epsilon / n,  # sigma_K where sigma_{K-1} belongs
    lambda n: sigma[n - 1] - (1 - epsilon) * y[n] - epsilon / n,  # y_K where y_{K-1} belongs
    lambda n: sigma[n - 1] - (1 - epsilon) * y[n - 1] - epsilon / (n - 1),  # eps / (K - 1)
    lambda n: sigma[n - 1] - y[n - 1],  # the smoothing forgotten
])
def test_an_off_by_one_entry_at_a_large_K_is_not_proved(wrong):
    n = LARGE_K
    d = _unverified(NAME, n)
    broken = with_entry(d, Rule.ASSUMPTION, n - 2, wrong(n))
    assert Prover(d).prove(broken) is not True


def test_a_short_targets_sum_in_one_entry_is_not_proved():
    """Entry 1 of the chain-rule step with y_K missing from (1 - eps)(y_1 + ... + y_K) + eps: the
    targets' sum is one atom in the proofs, so a sum that is not the whole sum must not become it."""
    n = LARGE_K
    d = _unverified(NAME, n)
    step = next(s for s in d.steps if s.rule == Rule.DIFFERENTIATE)
    total = sp.Add(*[y[r] for r in range(1, n + 1)])
    short = sp.Add(*[y[r] for r in range(1, n)])
    broken = with_entry(d, Rule.DIFFERENTIATE, 0, step.rhs[0].xreplace({total: short}))
    assert broken.rhs[0] != step.rhs[0]
    assert Prover(d).prove(broken) is not True


def test_a_wrong_entry_at_a_large_K_fails_verification():
    n = LARGE_K
    d = _unverified(NAME, n)
    broken = with_entry(d, Rule.ASSUMPTION, 0, sigma[1] - (1 - epsilon) * y[2] - epsilon / n)
    steps = tuple(broken if s.rule == Rule.ASSUMPTION else s for s in d.steps)
    with pytest.raises(VerificationError):
        verify_derivation(dataclasses.replace(d, steps=steps))
