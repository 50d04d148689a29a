"""cross-entropy-hessian against nested mpmath.diff of the loss; symmetry, PSD and the null vector checked."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import DiagMatrix

from backprop_helpers import json_results, verified
from derive.errors import VerificationError
from derive.reference import cross_entropy_hessian as reference
from derive.symbols import K as K_SYMBOL, i, j, sigma, v, y
from backprop_helpers import verify_one
from derive.engine import build as _unverified, concrete
from derive.model import Rule
from derive.verify.concrete import Prover
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


# --- concrete K over S: every entry proved (verify.concrete), O(K) side results ---------------------

def _factored(derivation):
    return next(s for s in derivation.steps if s.rule == Rule.FACTOR).rhs


def _with_rhs(derivation, rule, rhs):
    return next(dataclasses.replace(s, rhs=rhs) for s in derivation.steps if s.rule == rule)


def test_every_entry_is_proved_at_K_64():
    d = verified(NAME, 64)
    assert all(s.evidence.symbolic for s in d.steps)
    assert {"null-vector", "quadratic-form"} <= set(d.results)


@pytest.mark.parametrize("part, position", [(0, 37), (1, 37)])
def test_one_wrong_hessian_entry_at_K_64_is_not_proved(part, position):
    """Entry (38, 38) of H (the diagonal), or row 38 of -sigma sigma^T, with sigma_37 where sigma_38
    belongs: a position the numbers need not sample, so only the proof of every entry catches it."""
    d = _unverified(NAME, 64)
    factors = [list(f) for f in _factored(d).args]
    factors[part][position] = factors[part][position - 1]
    wrong = _with_rhs(d, Rule.FACTOR, concrete.StructuredMatrix(*factors))
    assert Prover(d).prove(wrong) is not True
    assert Prover(d).prove(_with_rhs(d, Rule.FACTOR, _factored(d))) is True  # the same proof, unbroken


def test_a_hessian_without_its_outer_product_or_with_the_targets_is_not_proved():
    d = _unverified(NAME, 64)
    probs = sp.MatrixSymbol("sigma", 64, 1)
    assert Prover(d).prove(_with_rhs(d, Rule.MATRIX_FORM, DiagMatrix(probs))) is not True
    targets_kept = sp.Derivative(probs - 2 * sp.MatrixSymbol("y", 64, 1), sp.MatrixSymbol("z", 64, 1), evaluate=False)
    assert Prover(d).prove(_with_rhs(d, Rule.SUBSTITUTE_RESULT, targets_kept)) is True  # d y / d z = 0
    doubled = sp.Derivative(2 * probs - sp.MatrixSymbol("y", 64, 1), sp.MatrixSymbol("z", 64, 1), evaluate=False)
    assert Prover(d).prove(_with_rhs(d, Rule.SUBSTITUTE_RESULT, doubled)) is not True


def test_wrong_side_results_at_K_64_are_not_proved():
    d = _unverified(NAME, 64)
    sums = list(next(s for s in d.steps if s.rule == Rule.LINEARITY).rhs)
    sums[20] = sigma[21] - sigma[22] * sp.Add(*[sigma[r] for r in range(1, 65)])  # row 22's factor in row 21
    assert Prover(d).prove(_with_rhs(d, Rule.LINEARITY, sp.ImmutableMatrix(sums))) is not True
    psd = next(s for s in d.steps if s.rule == Rule.SEMIDEFINITE)
    off_mean = psd.rhs.xreplace({reference_mean(): reference_mean() + sigma[3]})
    assert Prover(d).prove(dataclasses.replace(psd, rhs=off_mean)) is not True
    assert Prover(d).prove(dataclasses.replace(psd, rhs=psd.rhs - sigma[5] * (v[5] - reference_mean()) ** 2 / 2)) is not True


def reference_mean():
    from derive.engine.cross_entropy_hessian import MEAN
    return MEAN


def test_concrete_side_results_are_built_in_O_K():
    """Counts, not time: H 1 shares one sum sigma_1 + ... + sigma_K across its K entries, and the
    variance and the quadratic form have K + 1 terms at most, each of bounded size."""
    n = 64
    d = _unverified(NAME, n)
    row_sums = list(next(s for s in d.steps if s.rule == Rule.LINEARITY).rhs)
    shared = {id(f) for e in row_sums for term in e.args for f in sp.Mul.make_args(term) if isinstance(f, sp.Add)}
    assert len(shared) == 1
    psd = next(s for s in d.steps if s.rule == Rule.SEMIDEFINITE)
    for side in (psd.lhs, psd.rhs):
        assert len(side.args) <= n + 1
    assert max(sp.count_ops(t) for t in psd.rhs.args) <= 6
    assert isinstance(_factored(d), concrete.StructuredMatrix)  # K^2 entries never built in the steps
