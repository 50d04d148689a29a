"""masked-softmax against an independent oracle: mpmath.diff of <g, softmax over the visible logits>, NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified, verify_one
from derive.engine import build as _unverified
from derive.engine.masked_softmax import M
from derive.errors import UsageError, VerificationError
from derive.reference import masked_softmax as reference
from derive.symbols import K as K_SYMBOL, g, i, j, n, sigma
from oracles import as_mpf, finite_difference_gradient, gradient_by_mpmath_diff, instantiate_values, random_logits

NAME = "masked-softmax"
TOL = mpmath.mpf("1e-9")


def _visible_softmax(zs, position):
    """Plain mpmath: softmax of the first `position` logits, zeros after (shares nothing with derive)."""
    visible = zs[:position]
    top = max(visible)
    e = [mpmath.exp(v - top) for v in visible]
    total = mpmath.fsum(e)
    return [v / total for v in e] + [mpmath.mpf(0)] * (len(zs) - position)


@pytest.mark.parametrize("K, size", [(None, 4), (None, 6), (3, 3), (5, 5)])
@pytest.mark.parametrize("scale", [3.0, 1000.0])
def test_json_results_match_mpmath_diff(K, size, scale):
    rng = random.Random(size * 10 + (K or 0))
    results = json_results(NAME, K)
    for position in range(1, size + 1):
        zs, gs = random_logits(rng, size, scale=scale), random_logits(rng, size)
        probs = _visible_softmax(zs, position)
        expected = gradient_by_mpmath_diff(lambda v: mpmath.fsum(a * b for a, b in zip(gs, _visible_softmax(v, position))), zs)
        jac = [[mpmath.diff(lambda t: _visible_softmax(zs[:c] + [t] + zs[c + 1:], position)[r], zs[c])
                for c in range(size)] for r in range(size)]
        arrays = {sigma: probs, g: gs, M: [0 if r < position else mpmath.ninf for r in range(size)]}
        for r in range(size):
            entry = results["result"] if K is None else results["result"][r, 0]
            scalars = {K_SYMBOL: size, i: r + 1} if K is None else {}
            assert abs(as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays)) - expected[r]) < TOL
            if r >= position:  # a masked logit: its gradient is 0, as the derivation says
                assert expected[r] == 0
            for c in range(size):
                entry = results["jacobian"] if K is None else results["jacobian"][r, c]
                scalars = {K_SYMBOL: size, i: r + 1, j: c + 1} if K is None else {}
                assert abs(as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays)) - jac[r][c]) < TOL
        assert results["masked"] == 0


@pytest.mark.parametrize("K", [None, 4])
def test_every_step_verified_and_the_masked_steps_checked_on_masked_indices(K):
    derivation = verified(NAME, K)
    for step in derivation.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    masked = [s for s in derivation.steps if s.rule.value == "masked-logit"]
    assert masked and all(s.rhs == 0 and s.condition.has(n) for s in masked)
    proved = sum(1 for s in derivation.steps if s.evidence.symbolic)
    assert proved >= len(derivation.steps) - len(masked) - (0 if K is None else 1)


def test_claiming_zero_for_a_visible_logit_is_rejected():
    """The same zero claimed where the logit is visible (i <= n) must fail verification."""
    derivation = _unverified(NAME)
    step = next(s for s in derivation.steps if s.rule.value == "masked-logit" and s.lhs.has(sp.Symbol("L")))
    wrong = dataclasses.replace(step, condition=sp.Le(i, n), evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, wrong)


@pytest.mark.parametrize("shift", [0.0, 900.0])
def test_reference_matches_finite_differences(shift):
    rng = np.random.default_rng(4)
    z, up = rng.normal(size=6) + shift, rng.normal(size=6)
    mask = reference.causal_mask(6, 3)
    numeric = finite_difference_gradient(lambda v: float(np.dot(up, reference.forward(np.array(v), mask))), list(z))
    grad = reference.backward(z, mask, up)
    assert np.allclose(grad, numeric, atol=1e-7) and np.all(grad[3:] == 0)
    assert np.allclose(reference.jacobian(reference.forward(z, mask)) @ up, grad)


def test_concrete_K_is_bounded():
    with pytest.raises(UsageError, match="at most 8"):
        _unverified(NAME, 9)
