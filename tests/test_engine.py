"""Every derived result against independent numeric computations (mpmath.diff, finite differences)."""
from __future__ import annotations

import json
import random

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

import derive
from derive.render.serialize import to_json
from derive.symbols import K as K_SYMBOL, i, j, k, sigma, softmax_entry, y, z
from oracles import (cross_entropy_mp, gradient_by_mpmath_diff, instantiate, jacobian_by_finite_differences,
                     jacobian_by_mpmath_diff, random_logits, random_simplex, softmax_float, softmax_mp)

TOL = mpmath.mpf("1e-9")
NAMES = ("softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient")


def _json_result(name, K):
    """The result exactly as a consumer of the JSON sees it: srepr text turned back into SymPy.
    (Our own trusted output; user text never goes through sympify.)"""
    data = json.loads(to_json(derive.derive(name, K)))
    assert data["K"] == ("symbolic" if K is None else K)
    return sp.sympify(data["result"]["sympy"])


def _oracle(name, zs, ys):
    if name == "softmax-jacobian":
        return jacobian_by_mpmath_diff(softmax_mp, zs)
    if name == "log-softmax-jacobian":
        return jacobian_by_mpmath_diff(lambda v: [mpmath.log(p) for p in softmax_mp(v)], zs)
    return [[g] for g in gradient_by_mpmath_diff(lambda v: cross_entropy_mp(v, ys), zs)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("K, n", [(None, 3), (None, 5), (3, 3), (5, 5)])
def test_json_result_matches_mpmath_diff(name, K, n):
    """Symbolic K is instantiated at n classes; a concrete K is checked at its own size."""
    rng = random.Random(hash((name, K, n)) & 0xFFFF)
    result = _json_result(name, K)
    for _ in range(3):
        zs, ys = random_logits(rng, n), random_simplex(rng, n)
        probs = softmax_mp(zs)
        expected = _oracle(name, zs, ys)
        cols = 1 if name == "cross-entropy-gradient" else n
        for r in range(n):
            for c in range(cols):
                if K is None:
                    value = instantiate(result, n=n, probs=probs, targets=ys, i=r + 1, j=c + 1)
                else:
                    value = instantiate(result[r, c], n=n, probs=probs, targets=ys)
                assert abs(mpmath.mpf(str(sp.N(value, 50))) - expected[r][c]) < TOL, (name, K, r, c)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 10**6), shift=st.sampled_from([0.0, 1000.0, -1000.0]))
def test_symbolic_jacobian_matches_finite_differences(n, seed, shift):
    """Float finite differences of a stable softmax, including logits near +-1000."""
    rng = random.Random(seed)
    zs = [shift + rng.uniform(-3, 3) for _ in range(n)]
    numeric = jacobian_by_finite_differences(softmax_float, zs)
    result = derive.derive("softmax-jacobian").result
    probs = softmax_float(zs)
    for r in range(n):
        for c in range(n):
            value = float(instantiate(result, n=n, probs=probs, i=r + 1, j=c + 1))
            assert value == pytest.approx(numeric[r][c], abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 10**6))
def test_softmax_sums_to_one_and_gradient_sums_to_zero(n, seed):
    rng = random.Random(seed)
    zs, ys = random_logits(rng, n, scale=50), random_simplex(rng, n)
    probs = softmax_mp(zs)
    assert abs(mpmath.fsum(probs) - 1) < mpmath.mpf("1e-45")
    result = derive.derive("cross-entropy-gradient").result
    total = sum(mpmath.mpf(str(sp.N(instantiate(result, n=n, probs=probs, targets=ys, i=r + 1), 50)))
                for r in range(n))
    assert abs(total) < mpmath.mpf("1e-40")
    # The Jacobian's rows sum to zero (softmax outputs always sum to one).
    jac = derive.derive("softmax-jacobian").result
    for r in range(n):
        row = sum(float(instantiate(jac, n=n, probs=probs, i=r + 1, j=c + 1)) for c in range(n))
        assert abs(row) < 1e-12


def test_results_have_the_expected_closed_forms():
    """The closed forms the issue names, reached by SymPy (compared by expansion, not by string)."""
    jac = derive.derive("softmax-jacobian").result
    assert sp.expand(jac - sigma[i] * (sp.KroneckerDelta(i, j) - sigma[j])) == 0
    log_jac = derive.derive("log-softmax-jacobian").result
    assert sp.expand(log_jac - (sp.KroneckerDelta(i, j) - sigma[j])) == 0
    ce = derive.derive("cross-entropy-gradient")
    assert sp.expand(ce.result - (sigma[i] - y[i])) == 0
    general = ce.results["general"].rhs
    assert sp.expand(general - (sigma[i] * sp.Sum(y[k], (k, 1, K_SYMBOL)) - y[i])) == 0


def test_concrete_result_is_an_explicit_matrix_of_the_right_shape():
    assert derive.derive("softmax-jacobian", 4).result.shape == (4, 4)
    assert derive.derive("log-softmax-jacobian", 4).result.shape == (4, 4)
    assert derive.derive("cross-entropy-gradient", 4).result.shape == (4, 1)
    for entry in derive.derive("softmax-jacobian", 4).result:
        assert not entry.has(sp.exp)  # everything rewritten in sigma


@pytest.mark.parametrize("name", NAMES)
def test_every_step_has_evidence_and_symbolic_proof(name):
    for K in (None, 2, 4):
        for step in derive.derive(name, K).steps:
            assert step.evidence is not None
            assert step.evidence.points > 0
            assert step.evidence.numeric_max_abs_error < 1e-25
            assert step.evidence.symbolic is True, (name, K, step.rule)


def test_each_step_changes_the_expression():
    """Steps are rewrites of the previous right side, never repeats."""
    for name in NAMES:
        steps = derive.derive(name).steps
        for before, after in zip(steps, steps[1:]):
            assert before.rhs != after.rhs


def test_summation_dummy_never_captures_a_free_index():
    """sympy#21891: the definition of sigma_k must not use k as its own dummy."""
    entry = softmax_entry(k)
    (dummy, _lo, _hi), = entry.atoms(sp.Sum).pop().limits
    assert dummy != k
    assert sp.diff(entry, z[k]).has(sp.exp(z[k]))


def test_delta_sum_piecewise_is_resolved_by_the_stated_range():
    """sympy#13993: Sum_k delta_jk f(k) comes back as Piecewise; the derivation must not show it."""
    for name in NAMES:
        for step in derive.derive(name).steps:
            assert not step.rhs.has(sp.Piecewise)
