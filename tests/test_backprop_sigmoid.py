"""sigmoid-logistic-gradient against mpmath.diff of binary cross-entropy, and the K = 2 softmax link."""
from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.engine import build
from derive.errors import UsageError, VerificationError
from derive.reference import sigmoid_logistic_gradient as reference
from derive.symbols import sigma, u, y
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import as_mpf, instantiate_values, softmax_mp

NAME = "sigmoid-logistic-gradient"


@pytest.mark.parametrize("K", [None, 2])
@pytest.mark.parametrize("z1, z2, target", [("0.3", "-1.2", "1"), ("2.5", "2.0", "0"), ("-4", "1", "0.3")])
def test_json_result_matches_mpmath_diff(K, z1, z2, target):
    z1, z2, t = mpmath.mpf(z1), mpmath.mpf(z2), mpmath.mpf(target)
    def loss(v):
        s = 1 / (1 + mpmath.exp(-v))
        return -t * mpmath.log(s) - (1 - t) * mpmath.log(1 - s)
    expected = mpmath.diff(loss, z1 - z2)
    results = json_results(NAME, K)
    probs = softmax_mp([z1, z2])
    got = as_mpf(instantiate_values(results["result"], scalars={}, arrays={sigma: probs, y: [t]}))
    assert abs(got - expected) < mpmath.mpf("1e-9")
    link = as_mpf(instantiate_values(results["sigmoid-link"], scalars={u: z1 - z2}, arrays={}))
    assert abs(link - probs[0]) < mpmath.mpf("1e-40")


def test_reference_matches_finite_differences():
    h = 1e-6
    for value in (-30.0, -2.0, 0.0, 0.7, 40.0):
        for target in (0.0, 1.0, 0.25):
            numeric = (reference.forward(value + h, target) - reference.forward(value - h, target)) / (2 * h)
            assert reference.backward(value, target) == pytest.approx(numeric, abs=1e-7)
    assert np.isfinite(reference.forward(-800.0, 1.0)) and np.isfinite(reference.sigmoid(-800.0))


def test_every_step_verified_and_proved():
    for K in (None, 2):
        for step in verified(NAME, K).steps:
            assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
            assert step.evidence.symbolic is True


def test_only_two_classes():
    with pytest.raises(UsageError, match="K must be 2"):
        build(NAME, 3)


def test_a_wrong_link_is_rejected():
    """sigma_1 = 1/(1 + e^{u}) (the sign of u flipped) must fail."""
    d = _unverified(NAME)
    steps = list(d.steps)
    steps[2] = dataclasses.replace(steps[2], rhs=1 / (1 + sp.exp(u)), evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[2])


def test_registry_says_only_K_2():
    from derive.engine import REGISTRY
    entry = REGISTRY[NAME]
    assert entry.fixed_K == 2 and entry.supports_K(2) and entry.supports_K(None) and not entry.supports_K(3)
    assert REGISTRY["softmax-jacobian"].supports_K(7)
