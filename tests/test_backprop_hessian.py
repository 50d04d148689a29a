"""cross-entropy-hessian against nested mpmath.diff of the loss; symmetry, PSD and the null vector checked."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.reference import cross_entropy_hessian as reference
from derive.symbols import K as K_SYMBOL, i, j, sigma, y
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import as_mpf, cross_entropy_mp, instantiate_values, perturbed, random_logits, random_simplex, softmax_mp

NAME = "cross-entropy-hessian"
TOL = mpmath.mpf("1e-9")


def _hessian_oracle(zs, ys):
    n = len(zs)
    def d_dz(r):
        return lambda v: mpmath.diff(lambda t: cross_entropy_mp(perturbed(v, r, t), ys), v[r])
    return [[mpmath.diff(lambda t: d_dz(r)(perturbed(zs, c, t)), zs[c]) for c in range(n)] for r in range(n)]


def _matrix(result, K, n, probs):
    rows = []
    for r in range(n):
        row = []
        for c in range(n):
            entry = result if K is None else result[r, c]
            scalars = {K_SYMBOL: n, i: r + 1, j: c + 1} if K is None else {}
            row.append(as_mpf(instantiate_values(entry, scalars=scalars, arrays={sigma: probs})))
        rows.append(row)
    return rows


@pytest.mark.parametrize("K, n", [(None, 3), (None, 4), (3, 3), (4, 4)])
def test_json_result_matches_nested_mpmath_diff(K, n):
    rng = random.Random(17 * n)
    zs, ys = random_logits(rng, n), random_simplex(rng, n)
    got = _matrix(json_results(NAME, K)["result"], K, n, softmax_mp(zs))
    expected = _hessian_oracle(zs, ys)
    assert max(abs(got[r][c] - expected[r][c]) for r in range(n) for c in range(n)) < TOL


@pytest.mark.parametrize("shift", [0.0, 1000.0, -1000.0])
def test_properties_at_test_points(shift):
    """Symmetric, eigenvalues >= -tol, H 1 = 0: numerically, on the derived result."""
    rng = random.Random(int(shift) + 5)
    result = verified(NAME).result
    for n in (2, 3, 5):
        zs = [mpmath.mpf(shift) + v for v in random_logits(rng, n)]
        H = mpmath.matrix(_matrix(result, None, n, softmax_mp(zs)))
        assert mpmath.norm(H - H.T) < mpmath.mpf("1e-40")
        assert mpmath.norm(H * mpmath.ones(n, 1)) < mpmath.mpf("1e-40")
        eigenvalues = mpmath.eigsy(H)[0]
        assert min(eigenvalues) > -mpmath.mpf("1e-30")
        assert sorted(eigenvalues)[1] > 0 or n == 1  # only the all-ones direction is null (sigma > 0)


def test_reference_matches_finite_differences_of_the_gradient():
    rng = np.random.default_rng(4)
    z, y, v, h = rng.normal(size=4) * 2, rng.dirichlet(np.ones(4)), rng.normal(size=4), 1e-6
    numeric = np.array([(reference.gradient(z + h * e, y) - reference.gradient(z - h * e, y)) / (2 * h)
                        for e in np.eye(4)]).T
    assert np.allclose(reference.hessian(z), numeric, atol=1e-7)
    assert np.allclose(reference.hessian_vector_product(z, v), numeric @ v, atol=1e-7)
    assert np.all(np.linalg.eigvalsh(reference.hessian(z)) > -1e-12)


@pytest.mark.parametrize("K", [None, 2, 3])
def test_every_step_verified(K):
    d = verified(NAME, K)
    for step in d.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    proved = sum(1 for s in d.steps if s.evidence.symbolic)
    # symbolic K: the matrix form and the double-sum quadratic form (4 steps) rest on the numbers
    assert proved == len(d.steps) if K is not None else proved >= len(d.steps) - 5
    rules = {s.rule.value for s in d.steps}
    assert {"symmetry", "probs-sum-to-one", "semidefinite"} <= rules


def test_a_wrong_hessian_is_rejected():
    """Keeping the targets, sigma_i (delta_ij - sigma_j) - y_i, must fail."""
    d = _unverified(NAME)
    steps = list(d.steps)
    steps[2] = dataclasses.replace(steps[2], rhs=steps[2].rhs - y[i], evidence=None)
    with pytest.raises(VerificationError):
        verify_one(d, steps[2])
