"""batched-linear-softmax-cross-entropy against mpmath.diff of the plain mean loss, and NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest

from backprop_helpers import json_results, verified, verify_one
from derive.engine import REGISTRY, build as _unverified
from derive.errors import VerificationError
from derive.reference import batched_linear_softmax_cross_entropy as reference
from derive.symbols import D as D_SYMBOL, K as K_SYMBOL, N as N_SYMBOL, P, W, X, Y, b, d, i
from oracles import as_mpf, finite_difference_gradient, instantiate_values, random_simplex, softmax_mp

NAME = "batched-linear-softmax-cross-entropy"
TOL = mpmath.mpf("1e-9")


def _mean_loss(weights, bias, inputs, targets):
    total = 0
    for row, target in zip(inputs, targets):
        logits = [mpmath.fsum(w * v for w, v in zip(wrow, row)) + c for wrow, c in zip(weights, bias)]
        total += -mpmath.fsum(t * mpmath.log(p) for t, p in zip(target, softmax_mp(logits)))
    return total / len(inputs)


@pytest.mark.parametrize("K, D, N, sizes", [(None, None, None, (3, 2, 2)), (None, None, None, (2, 3, 3)),
                                            (2, 2, 2, (2, 2, 2)), (3, 2, 3, (3, 2, 3))])
def test_json_results_match_mpmath_diff(K, D, N, sizes):
    n, features, batch = sizes
    rng = random.Random(n * 100 + features * 10 + batch)
    weights = [[mpmath.mpf(rng.uniform(-1, 1)) for _ in range(features)] for _ in range(n)]
    bias = [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(n)]
    inputs = [[mpmath.mpf(rng.uniform(-2, 2)) for _ in range(features)] for _ in range(batch)]
    targets = [random_simplex(rng, n) for _ in range(batch)]
    probs = [softmax_mp([mpmath.fsum(w * v for w, v in zip(wrow, row)) + c for wrow, c in zip(weights, bias)])
             for row in inputs]
    results = json_results(NAME, K, D, N)
    arrays = {P: probs, Y: targets, X: inputs, W: weights, b: bias}
    sized = {K_SYMBOL: n, D_SYMBOL: features, N_SYMBOL: batch}
    for r in range(n):
        for c in range(features):
            def moved(t):
                out = [list(row) for row in weights]
                out[r][c] = t
                return out
            expected = mpmath.diff(lambda t: _mean_loss(moved(t), bias, inputs, targets), weights[r][c])
            entry = results["W"] if K is None else results["W"][r, c]
            got = as_mpf(instantiate_values(entry, scalars={**sized, i: r + 1, d: c + 1} if K is None else {},
                                            arrays=arrays))
            assert abs(got - expected) < TOL
        expected_b = mpmath.diff(lambda t: _mean_loss(weights, bias[:r] + [t] + bias[r + 1:], inputs, targets), bias[r])
        entry = results["b"] if K is None else results["b"][r, 0]
        got = as_mpf(instantiate_values(entry, scalars={**sized, i: r + 1} if K is None else {}, arrays=arrays))
        assert abs(got - expected_b) < TOL


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(9)
    Wv, bv, Xv = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(4, 2))
    Yv = rng.dirichlet(np.ones(3), size=4)
    gW, gb = reference.backward(Wv, bv, Xv, Yv)
    assert gW.shape == Wv.shape and gb.shape == bv.shape
    fW = finite_difference_gradient(lambda f: reference.forward(np.array(f).reshape(3, 2), bv, Xv, Yv), list(Wv.ravel()))
    fb = finite_difference_gradient(lambda f: reference.forward(Wv, np.array(f), Xv, Yv), list(bv))
    assert np.allclose(gW.ravel(), fW, atol=1e-7) and np.allclose(gb, fb, atol=1e-7)


@pytest.mark.parametrize("K, D, N", [(None, None, None), (2, 3, 2)])
def test_every_step_verified_numerically_and_shapes_recorded(K, D, N):
    derivation = verified(NAME, K, D, N)
    for step in derivation.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
        # symbolic sizes: proofs not attempted (see Semantics.prove); concrete: every entry proved
        # over each example's denominator S_n (verify.concrete RowsProver)
        assert step.evidence.symbolic is (None if K is None else True)
    assert dict(derivation.shapes)["X"] == "N x D" and dict(derivation.shapes)["dL/dW"] == "K x D"
    assert REGISTRY[NAME].sizes == ("K", "D", "N")


def test_forgetting_the_mean_is_rejected():
    """The summed-loss gradient (no 1/N) must fail: test batches have N >= 2."""
    derivation = _unverified(NAME)
    steps = list(derivation.steps)
    index = next(n for n, s in enumerate(steps) if s.rule.value == "factor")
    wrong = dataclasses.replace(steps[index], rhs=steps[index].rhs * N_SYMBOL, evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, wrong)


@pytest.mark.parametrize("rule, block, position, swap", [
    ("chain-rule", 0, (40, 1), {X[2, 2]: X[3, 2]}),    # dL/dW_{41,2}: example 2's input read from example 3
    ("chain-rule", 0, (63, 2), {P[4, 64]: P[4, 63]}),  # dL/dW_{64,3}: the neighbouring class's probability
    ("chain-rule", 1, (9, 0), {Y[1, 10]: Y[2, 10]}),   # dL/db_10: example 2's target in example 1's term
])
def test_one_wrong_entry_at_K_64_is_not_proved(rule, block, position, swap):
    """At K = 64 numbers are checked at a sample of entries, so the exact proof must catch one wrong
    entry wherever it is: the step as built is proved, and with that one entry changed it is not."""
    import sympy as sp
    from derive.verify.concrete import RowsProver
    derivation = _unverified(NAME, 64, 3, 4)
    step = [s for s in derivation.steps if s.rule.value == rule][block]
    entries = step.rhs.as_mutable()
    entries[position] = entries[position].xreplace(swap)
    wrong = dataclasses.replace(step, rhs=sp.ImmutableMatrix(entries), evidence=None)
    assert wrong.rhs != step.rhs
    assert RowsProver(derivation).prove(step) is True
    assert RowsProver(derivation).prove(wrong) is not True


def test_one_proof_per_entry_shape_and_a_misplaced_or_foreign_entry_is_not_proved():
    """Entries that rename each other (examples, classes, features permuted: verify.symmetry) share
    one proof, so at K = 64 only a few normal forms are built for 4 x 64 x 4 entries; an entry
    moved to another position, or one reading example 5 of a batch of 4, is still not proved."""
    import sympy as sp
    from derive.verify.concrete import RowsProver
    derivation = _unverified(NAME, 64, 3, 4)
    prover = RowsProver(derivation)
    assert all(prover.prove(step) is True for step in derivation.steps)
    assert len(prover._normal) <= 8
    step = next(s for s in derivation.steps if s.rule.value == "chain-rule")
    example_5 = {P[4, 41]: P[5, 41], Y[4, 41]: Y[5, 41], X[4, 2]: X[5, 2]}  # the same shape, renamed out of the batch
    for change in (lambda entries: entries[40, 2],                # dL/dW_{41,3}'s entry at (41, 2)
                   lambda entries: entries[40, 1].xreplace(example_5)):  # example 5 of 4 in place of example 4
        entries = step.rhs.as_mutable()
        entries[40, 1] = change(entries)
        wrong = dataclasses.replace(step, rhs=sp.ImmutableMatrix(entries), evidence=None)
        assert wrong.rhs != step.rhs
        assert prover.prove(wrong) is not True


def test_the_shared_proof_needs_a_symmetric_meaning():
    """Without one term of the loss the meaning is no longer the same under renaming, so no entry
    shape stands for another; with every term it is."""
    from derive.verify.concrete import RowsProver
    from derive.verify.symmetry import BatchSymmetry
    meaning = RowsProver(_unverified(NAME, 8, 3, 4))._meaning_pairs()
    assert BatchSymmetry.of(meaning) is not None
    assert BatchSymmetry.of([pair for pair in meaning if not pair[1].has(Y[2, 5])]) is None


def test_an_entry_holding_a_symbol_the_meaning_does_not_has_no_shared_proof():
    """A renaming fixes symbols, which is right for the meaning's own (L) but not for one from
    elsewhere: an entry holding sigma_1 as a symbol gets no key, so it is proved on its own."""
    import sympy as sp
    from derive.verify.concrete import RowsProver
    from derive.verify.symmetry import BatchSymmetry
    prover = RowsProver(_unverified(NAME, 8, 3, 4))
    symmetry = BatchSymmetry.of(prover._meaning_pairs())
    loss, = prover.defined
    entry = (sp.Derivative(loss, W[2, 1]), (P[1, 2] - Y[1, 2]) * X[1, 1] / 4)
    assert symmetry.key(*entry) is not None
    assert symmetry.key(entry[0], entry[1] * sp.Symbol("sigma_1")) is None


def test_df_dS_is_gathered_as_gcd_terms_gathers_it():
    """(Y_e1 + ... + Y_eK) / (N S_e) by distributivity is gcd_terms' own form (the step's row sum
    is then one subexpression); terms with different coefficients are left to gcd_terms."""
    import sympy as sp
    from derive.engine.concrete import ROW_DENOMINATOR, derivative_by_terms
    from derive.verify.concrete import RowsProver, _gathered
    prover = RowsProver(_unverified(NAME, 8, 3, 4))
    loss, = prover.defined
    row = derivative_by_terms(sp.Add(*prover._terms(loss)[ROW_DENOMINATOR[2]]), ROW_DENOMINATOR[2])
    assert sp.srepr(_gathered(row)) == sp.srepr(sp.gcd_terms(row))
    assert _gathered(row).has(sp.Add(*[Y[2, c] for c in range(1, 9)]))
    uneven = row + Y[2, 1] / ROW_DENOMINATOR[2]
    assert sp.srepr(_gathered(uneven)) == sp.srepr(sp.gcd_terms(uneven))


def test_a_form_step_is_proved_once_for_all_its_entries_only_when_they_rename_one_another():
    """(1/N)(P - Y)^T X against dL/dW_rc: every entry is entry (1, 1) renamed, so one proof stands
    for the K D entries; a wrong form is not proved, and a left side with one entry of another
    variable is proved entry by entry and fails there."""
    import sympy as sp
    from derive.algebra.index_templates import placeholder
    from derive.symbols import L
    from derive.verify.concrete import RowsProver
    derivation = _unverified(NAME, 64, 3, 4)
    prover = RowsProver(derivation)
    forms = [s for s in derivation.steps if s.rule.value in ("matrix-form", "vector-form")]
    assert len(forms) == 2
    for step in forms:
        rows, cols = (int(n) for n in step.lhs.shape)
        assert prover._one_shape(step.lhs, step.rhs, rows, cols) is not None
        assert prover.prove(step) is True
    step = forms[0]
    probs, inputs = sp.MatrixSymbol("P", 4, 64), sp.MatrixSymbol("X", 4, 3)
    assert prover.prove(dataclasses.replace(step, rhs=probs.T * inputs / 4, evidence=None)) is not True
    entries = step.lhs.as_mutable()
    entries[40, 1] = sp.Derivative(L, W[41, 3], evaluate=False)
    moved = dataclasses.replace(step, lhs=sp.ImmutableMatrix(entries), evidence=None)
    assert prover._one_shape(moved.lhs, moved.rhs, 64, 3) is None
    assert prover.prove(moved) is not True
    p0, p1 = placeholder(0), placeholder(1)
    symmetry = prover._symmetry
    lhs = sp.Derivative(L, W[p0, p1], evaluate=False)
    assert symmetry.renames(sp.Tuple(lhs, P[1, p0] * X[1, p1]), {p0: 64, p1: 3})
    assert not symmetry.renames(sp.Tuple(lhs, P[1, p0] * X[1, p1] + P[1, 2]), {p0: 64, p1: 3})  # class 2 written
    assert not symmetry.renames(sp.Tuple(lhs, P[p0, p0] * X[1, p1]), {p0: 64, p1: 3})  # p0 an example too
    assert not symmetry.renames(sp.Tuple(lhs, P[1, p0] * X[1, p1]), {p0: 65, p1: 3})  # class 65 of 64
    assert not symmetry.renames(sp.Tuple(lhs, P[1, p0] * X[1, p1] * 2 ** p0), {p0: 64, p1: 3})  # p0 a power
