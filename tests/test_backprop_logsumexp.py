"""logsumexp-gradient against mpmath.diff and NumPy finite differences; the stable forms at |z| ~ 1000."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.engine import concrete
from derive.errors import VerificationError
from derive.model import Rule
from derive.reference import logsumexp_gradient as reference
from derive.symbols import K as K_SYMBOL, M, c, i, sigma, z
from backprop_helpers import verify_one, with_entry
from derive.engine import build as _unverified
from derive.verify import verify_derivation
from derive.verify.concrete import Prover
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


# --- a large K: every entry proved over S (verify.concrete), and a wrong entry is not carried along ---------

LARGE_K = 64


def test_every_step_is_proved_at_a_large_K():
    d = verified(NAME, LARGE_K)
    assert all(step.evidence.symbolic is True for step in d.steps), [s.rule for s in d.steps]
    assert set(d.results) == {"shift-invariance", "stable-softmax"}


def test_an_off_by_one_gradient_entry_at_a_large_K_is_not_proved():
    n = LARGE_K
    d = _unverified(NAME, n)
    broken = with_entry(d, Rule.DIFFERENTIATE, n - 2, sp.exp(z[n]) / concrete.S)
    assert Prover(d).prove(broken) is not True


def _shifted_sum(n, shift, *, skip=None, doubled=None):
    return sp.Add(*[sp.exp(z[r] + (2 * shift if r == doubled else shift)) for r in range(1, n + 1) if r != skip])


@pytest.mark.parametrize("wrong_sum", [
    lambda n, shift: _shifted_sum(n, shift, skip=n),  # a class left out of the sum
    lambda n, shift: _shifted_sum(n, shift, doubled=5),  # one term shifted twice
    lambda n, shift: sp.Add(*[sp.exp(z[r]) for r in range(1, n + 1)]),  # the sum left unshifted
])
def test_a_wrong_shifted_sum_in_one_entry_is_not_proved(wrong_sum):
    """A sum over the classes is m S in the proofs only when every class is there with one factor m.
    K = 12: above 4 classes the sums are folded as at any large K, and refuting the wrong entry is
    SymPy's cancel on the written-out sums, seconds at K = 64."""
    n = 12
    d = _unverified(NAME, n)
    stable = with_entry(d, Rule.STABLE_EVALUATION, n - 1, sp.exp(z[n] - M) / wrong_sum(n, -M))
    assert Prover(d).prove(stable) is not True
    shifted = with_entry(d, Rule.EXPAND, 1, sp.exp(c) * sp.exp(z[2]) / wrong_sum(n, c))
    assert Prover(d).prove(shifted) is not True


def test_a_stable_form_shifted_in_the_numerator_only_fails_verification_at_a_large_K():
    n = LARGE_K
    d = _unverified(NAME, n)
    broken = with_entry(d, Rule.STABLE_EVALUATION, 0, sp.exp(z[1] - M) / _shifted_sum(n, 0))
    steps = tuple(broken if s.rule == Rule.STABLE_EVALUATION else s for s in d.steps)
    with pytest.raises(VerificationError):
        verify_derivation(dataclasses.replace(d, steps=steps))
