"""linear-softmax-cross-entropy against mpmath.diff of the plain loss of (W, b, x) and NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified
from derive.errors import UsageError, VerificationError
from derive.engine import REGISTRY, build
from derive.reference import linear_softmax_cross_entropy as reference
from derive.symbols import D as D_SYMBOL, K as K_SYMBOL, W, b, d, i, sigma, x, y, z
from backprop_helpers import verify_one
from derive.engine import build as _unverified
from oracles import as_mpf, finite_difference_gradient, instantiate_values, random_simplex, softmax_mp

NAME = "linear-softmax-cross-entropy"
TOL = mpmath.mpf("1e-9")


def _point(rng, n, features):
    weights = [[mpmath.mpf(rng.uniform(-1, 1)) for _ in range(features)] for _ in range(n)]
    return (weights, [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(n)],
            [mpmath.mpf(rng.uniform(-2, 2)) for _ in range(features)], random_simplex(rng, n))


def _loss(weights, bias, inputs, targets):
    logits = [mpmath.fsum(w * v for w, v in zip(row, inputs)) + c for row, c in zip(weights, bias)]
    return -mpmath.fsum(t * mpmath.log(p) for t, p in zip(targets, softmax_mp(logits)))


def _oracle(weights, bias, inputs, targets):
    """dL/dW, dL/db, dL/dx by mpmath.diff of the plain loss, one coordinate at a time."""
    def moved(matrix, r, c, t):
        out = [list(row) for row in matrix]
        out[r][c] = t
        return out
    def vec(values, r, t):
        out = list(values)
        out[r] = t
        return out
    dW = [[mpmath.diff(lambda t: _loss(moved(weights, r, c, t), bias, inputs, targets), weights[r][c])
           for c in range(len(inputs))] for r in range(len(bias))]
    db = [mpmath.diff(lambda t: _loss(weights, vec(bias, r, t), inputs, targets), bias[r]) for r in range(len(bias))]
    dx = [mpmath.diff(lambda t: _loss(weights, bias, vec(inputs, c, t), targets), inputs[c]) for c in range(len(inputs))]
    return dW, db, dx


@pytest.mark.parametrize("K, D, n, features", [(None, None, 3, 2), (None, None, 4, 3), (3, 2, 3, 2), (2, 3, 2, 3)])
def test_json_results_match_mpmath_diff(K, D, n, features):
    rng = random.Random(n * 10 + features)
    results = json_results(NAME, K, D)
    weights, bias, inputs, targets = _point(rng, n, features)
    dW, db, dx = _oracle(weights, bias, inputs, targets)
    logits = [mpmath.fsum(w * v for w, v in zip(row, inputs)) + c for row, c in zip(weights, bias)]
    arrays = {sigma: softmax_mp(logits), y: targets, W: weights, x: inputs, b: bias}
    sizes = {K_SYMBOL: n, D_SYMBOL: features}
    def value(expr, scalars):
        return as_mpf(instantiate_values(expr, scalars=scalars, arrays=arrays))
    for r in range(n):
        for c in range(features):
            entry = results["W"] if K is None else results["W"][r, c]
            assert abs(value(entry, {**sizes, i: r + 1, d: c + 1} if K is None else {}) - dW[r][c]) < TOL
        entry = results["b"] if K is None else results["b"][r, 0]
        assert abs(value(entry, {**sizes, i: r + 1} if K is None else {}) - db[r]) < TOL
    for c in range(features):
        entry = results["x"] if K is None else results["x"][c, 0]
        assert abs(value(entry, {**sizes, d: c + 1} if K is None else {}) - dx[c]) < TOL
    assert sp.expand(results["result"] - results["W"]) == sp.zeros(*results["W"].shape) if K else \
        sp.expand(results["result"] - results["W"]) == 0


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(6)
    Wv, bv, xv, yv = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4), rng.dirichlet(np.ones(3))
    gW, gb, gx = reference.backward(Wv, bv, xv, yv)
    fW = finite_difference_gradient(lambda f: reference.forward(np.array(f).reshape(3, 4), bv, xv, yv), list(Wv.ravel()))
    fb = finite_difference_gradient(lambda f: reference.forward(Wv, np.array(f), xv, yv), list(bv))
    fx = finite_difference_gradient(lambda f: reference.forward(Wv, bv, np.array(f), yv), list(xv))
    assert np.allclose(gW.ravel(), fW, atol=1e-7) and np.allclose(gb, fb, atol=1e-7) and np.allclose(gx, fx, atol=1e-7)


@pytest.mark.parametrize("K, D", [(None, None), (2, 3)])
def test_every_step_verified(K, D):
    derivation = verified(NAME, K, D)
    for step in derivation.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    assert dict(derivation.sizes)["D"] == D
    assert {name for name, _shape in derivation.shapes} >= {"x", "W", "b", "dL/dW"}


def test_sizes_are_validated():
    assert REGISTRY[NAME].sizes == ("K", "D")
    assert REGISTRY["softmax-jacobian"].sizes == ("K",)
    with pytest.raises(UsageError):
        build("softmax-jacobian", 3, 2)
    with pytest.raises(UsageError):
        build(NAME, None, 2)
    assert build(NAME, 2).result.shape == (2, 2)  # D defaults to 2


@pytest.mark.parametrize("wrong", [(y[i] - sigma[i]) * x[d],   # sign: gradient ascent
                                   (sigma[i] - y[i]) * x[i]])  # index swap (x_i with i > D cannot even be read)
def test_a_wrong_gradient_is_rejected(wrong):
    derivation = _unverified(NAME)
    steps = list(derivation.steps)
    index = next(n for n, s in enumerate(steps) if s.rule.value == "factor")
    steps[index] = dataclasses.replace(steps[index], rhs=wrong, evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, steps[index])


@pytest.mark.parametrize("K, D", [(3, 2), (2, 3), (4, 3), (3, 3), (64, 3)])
def test_every_concrete_step_is_proved_exactly(K, D):
    """Over S through the layer z = W x + b (verify.concrete), SymPy proves every entry, W^T (sigma - y)
    included (its entries W[r, c] are read 1-based); K = D (a square dL/dW) is proved entry by entry too."""
    derivation = verified(NAME, K, D)
    assert [s.rule.value for s in derivation.steps if s.evidence.symbolic is not True] == []


@pytest.mark.parametrize("rule, chain, swap", [("differentiate", 0, {x[1]: x[2]}),        # dL/dW
                                               ("chain-rule", 2, {W[1, 1]: W[1, 2]})])    # dL/dx = W^T (sigma - y)
def test_the_refolded_proof_does_not_prove_a_wrong_entry(rule, chain, swap):
    """The generic verifier's proof (b traded for z, Semantics.refold) on the written-out entries
    (dL/dx is shown once, derivatives taken, in its chain-rule step)."""
    from derive.verify import prove_equal, with_definitions
    derivation = _unverified(NAME, 3, 2)
    step = [s for s in derivation.steps if s.rule.value == rule][chain]
    assert prove_equal(with_definitions(step, derivation.definitions), n=3, semantics=derivation.semantics)
    wrong = dataclasses.replace(step, rhs=step.rhs.xreplace(swap))
    assert wrong.rhs != step.rhs
    assert prove_equal(with_definitions(wrong, derivation.definitions), n=3, semantics=derivation.semantics) is not True


def _with_entry(step, position, rewrite):
    entries = step.rhs.as_mutable()
    entries[position] = rewrite(entries[position])
    return dataclasses.replace(step, rhs=sp.ImmutableMatrix(entries), evidence=None)


@pytest.mark.parametrize("rule, block, position, rewrite", [
    # dL/dW_{41,2} = (sigma_41 - y_41) x_3 instead of x_2
    ("differentiate", 0, (40, 1), lambda e: e.xreplace({x[2]: x[3]})),
    # the chain rule through the wrong logit: dz_42/dW_{41,2} is 0, not x_2
    ("chain-rule", 0, (40, 1), lambda e: e.replace(lambda t: isinstance(t, sp.Derivative),
                                                   lambda t: sp.Derivative(z[42], *t.variables, evaluate=False))),
    # dL/db_64 = sigma_63 - y_64
    ("differentiate", 1, (63, 0), lambda e: e.xreplace({sigma[64]: sigma[63]})),
    # dL/dx_3 with one of its 64 terms off by one row of W
    ("chain-rule", 2, (2, 0), lambda e: e.xreplace({W[37, 3]: W[38, 3]})),
])
def test_one_wrong_entry_at_K_64_is_not_proved(rule, block, position, rewrite):
    """At K = 64 numbers are checked at a sample of entries, so the exact proof must catch one
    wrong entry wherever it is: each block's step, as built, is proved, and with that entry changed is not."""
    from derive.verify.concrete import Prover
    derivation = _unverified(NAME, 64, 3)
    step = [s for s in derivation.steps if s.rule.value == rule][block]
    wrong = _with_entry(step, position, rewrite)
    assert wrong.rhs != step.rhs
    assert Prover(derivation).prove(step) is True
    assert Prover(derivation).prove(wrong) is not True


def test_one_proof_per_entry_shape_through_the_layer_and_a_misplaced_or_foreign_entry_is_not_proved():
    """Through z = W x + b, entries that rename each other (classes and features permuted,
    verify.symmetry) share one proof: at K = 64 a handful of shapes for 64 x 3 + 64 + 3 entries. An
    entry moved to another position, or renamed to class 65 of 64, is still not proved."""
    from derive.verify.concrete import Prover
    derivation = _unverified(NAME, 64, 3)
    prover = Prover(derivation)
    assert prover._symmetry is not None
    assert all(prover.prove(step) is True for step in derivation.steps)
    assert len(prover._by_shape) <= 8
    step = next(s for s in derivation.steps if s.rule.value == "differentiate")
    misplaced = _with_entry(step, (40, 1), lambda e: step.rhs[40, 2])                  # dL/dW_{41,3}'s entry
    foreign = _with_entry(step, (63, 1), lambda e: e.xreplace({sigma[64]: sigma[65], y[64]: y[65]}))
    for wrong in (misplaced, foreign):
        assert wrong.rhs != step.rhs
        assert prover.prove(wrong) is not True
