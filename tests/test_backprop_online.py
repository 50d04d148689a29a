"""online-softmax: the recurrence against the direct softmax at |z| ~ 1000 over many block splits, and the JSON results."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from backprop_helpers import json_results, verified, verify_one
from derive.engine import build as _unverified
from derive.engine.online_softmax import B, T, ell, m, o, t, v
from derive.errors import UsageError, VerificationError
from derive.reference import online_softmax as reference
from derive.symbols import K as K_SYMBOL, i, k, sigma, z
from derive.verify.generic import prove_equal
from oracles import as_mpf, instantiate_values, softmax_mp

NAME = "online-softmax"
TOL = mpmath.mpf("1e-9")


def _online_mp(zs, vs, ends):
    """The recurrence in plain mpmath, block by block: (m_t, l_t, o_t) after every block."""
    top, total, out, history, start = mpmath.ninf, mpmath.mpf(0), mpmath.mpf(0), [], 0
    for end in ends:
        new_top = max([top] + zs[start:end])
        rescale = mpmath.exp(top - new_top) if top != mpmath.ninf else mpmath.mpf(0)
        weights = [mpmath.exp(x - new_top) for x in zs[start:end]]
        total = total * rescale + mpmath.fsum(weights)
        out = out * rescale + mpmath.fsum(w * y for w, y in zip(weights, vs[start:end]))
        top, start = new_top, end
        history.append((top, total, out))
    return history


def _splits(draw_ends, size):
    return sorted(set(draw_ends)) + [size]


logits = st.lists(st.floats(-1005, 1005, allow_nan=False), min_size=2, max_size=12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=logits, shift=st.sampled_from([0.0, 1000.0, -1000.0]), data=st.data())
def test_recurrence_equals_direct_softmax_at_extreme_logits_over_block_splits(values, shift, data):
    size = len(values)
    cuts = data.draw(st.lists(st.integers(1, size - 1), max_size=size - 1), label="cuts")
    ends = _splits(cuts, size)
    zs = [mpmath.mpf(x) + shift for x in values]
    vs = [mpmath.mpf(k % 3) - 1 for k in range(size)]
    top, total, out = _online_mp(zs, vs, ends)[-1]
    direct = softmax_mp(zs)
    for x, p in zip(zs, direct):
        assert abs(mpmath.exp(x - top) / total - p) < mpmath.mpf("1e-45")
    assert abs(out / total - mpmath.fsum(p * y for p, y in zip(direct, vs))) < mpmath.mpf("1e-45")
    # The NumPy reference at float64: finite at |z| ~ 2000, equal to the direct softmax to rounding.
    probs, weighted = reference.forward(np.array([float(x) for x in zs]), np.array([[float(y)] for y in vs]), ends)
    assert np.all(np.isfinite(probs)) and np.allclose(probs, [float(p) for p in direct], atol=1e-12)
    assert np.allclose(weighted[0], float(mpmath.fsum(p * y for p, y in zip(direct, vs))), atol=1e-12)


def test_the_invariant_holds_after_every_block():
    rng = random.Random(3)
    for _ in range(20):
        size = rng.randint(2, 9)
        zs = [mpmath.mpf(rng.uniform(-1000, 1000)) for _ in range(size)]
        vs = [mpmath.mpf(rng.uniform(-2, 2)) for _ in range(size)]
        ends = sorted(rng.sample(range(1, size), rng.randint(0, size - 1))) + [size]
        for (top, total, out), end in zip(_online_mp(zs, vs, ends), ends):
            assert abs(total - mpmath.fsum(mpmath.exp(x - top) for x in zs[:end])) < mpmath.mpf("1e-40") * total
            assert abs(out - mpmath.fsum(mpmath.exp(x - top) * y for x, y in zip(zs[:end], vs[:end]))) \
                < mpmath.mpf("1e-40") * (1 + abs(out))


def _value(expr, *, scalars, arrays, ends):
    """instantiate_values, with the block ends (integers, the sums' limits) put in first."""
    sized = expr.xreplace({symbol: sp.Integer(value) for symbol, value in scalars.items()})
    with_ends = sized.xreplace({B[r + 1]: sp.Integer(end) for r, end in enumerate(ends)})
    return as_mpf(instantiate_values(with_ends, scalars={}, arrays=arrays))


@pytest.mark.parametrize("K", [None, 3, 5])
def test_json_results_match_the_recurrence_and_the_softmax(K):
    rng = random.Random(K or 1)
    size = K or 6
    zs = [mpmath.mpf(rng.uniform(-1000, 1000)) for _ in range(size)]
    vs = [mpmath.mpf(rng.uniform(-2, 2)) for _ in range(size)]
    ends = (sorted(rng.sample(range(1, size), 2)) + [size]) if K is None else list(range(1, size + 1))
    history = _online_mp(zs, vs, ends)
    direct = softmax_mp(zs)
    results = json_results(NAME, K)
    arrays = {sigma: direct, v: vs, z: zs, m: [h[0] for h in history], ell: [h[1] for h in history],
              o: [h[2] for h in history]}
    for r in range(size):
        entry = results["result"] if K is None else results["result"][r, 0]
        got = _value(entry, scalars={K_SYMBOL: size, i: r + 1} if K is None else {}, arrays=arrays, ends=ends)
        assert abs(got - direct[r]) < TOL
    expected_output = mpmath.fsum(p * y for p, y in zip(direct, vs))
    scalars = {K_SYMBOL: size, T: len(ends)} if K is None else {}
    assert abs(_value(results["output"], scalars=scalars, arrays=arrays, ends=ends) - expected_output) < TOL
    if K is None:
        for block, (top, total, out) in enumerate(history, 1):
            sized = {K_SYMBOL: size, t: block}
            assert abs(_value(results["running-sum"], scalars=sized, arrays=arrays, ends=ends) - total) < TOL * total
            assert abs(_value(results["accumulator"], scalars=sized, arrays=arrays, ends=ends) - out) \
                < TOL * (1 + abs(out))


@pytest.mark.parametrize("K", [None, 4])
def test_every_step_verified(K):
    derivation = verified(NAME, K)
    for step in derivation.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    # Concrete K: the unrolled recurrence is explicit. Symbolic K: l_t, o_t by the induction (recurrence,
    # hypothesis, base case) and every step an identity in exponentials and block sums.
    assert all(step.evidence.symbolic for step in derivation.steps)


@pytest.mark.parametrize("rule", ["rescale", "join-sums"])
def test_symbolic_proof_refuses_a_wrong_induction_step(rule):
    """The exact proof can fail: the rescaled sum kept at the old maximum m_(t-1), or a join that drops
    the first block, is not an identity, and SymPy must not call it one."""
    derivation = _unverified(NAME)
    step = next(s for s in derivation.steps if s.rule.value == rule)
    if rule == "rescale":
        rhs = step.rhs.xreplace({sp.exp(z[k] - m[t]): sp.exp(z[k] - m[t - 1])})
    else:
        rhs = step.rhs.replace(lambda e: isinstance(e, sp.Sum), lambda e: sp.Sum(e.function, (e.limits[0][0], 2, B[t])))
    assert rhs != step.rhs
    wrong = dataclasses.replace(step, rhs=rhs, evidence=None)
    assert prove_equal(wrong, n=None, semantics=derivation.semantics) is not True
    assert prove_equal(step, n=None, semantics=derivation.semantics) is True


def test_a_recurrence_without_the_rescale_is_rejected():
    """l_t = l_(t-1) + sum e^{z_k - m_t} (forgetting e^{m_(t-1) - m_t}) must fail: the maxima change."""
    derivation = _unverified(NAME)
    step = next(s for s in derivation.steps if s.rule.value == "definition" and s.condition != sp.true)
    wrong = dataclasses.replace(step, rhs=step.rhs.replace(lambda e: isinstance(e, sp.exp) and e.has(m[t - 1]),
                                                           lambda e: sp.Integer(1)), evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, wrong)


def test_reference_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    zv, vv, g = rng.normal(size=5) * 3, rng.normal(size=(5, 2)), rng.normal(size=2)
    loss = lambda x: float(reference.forward(x, vv, [2, 5])[1] @ g)
    h = 1e-6
    numeric = [(loss(zv + h * e) - loss(zv - h * e)) / (2 * h) for e in np.eye(5)]
    assert np.allclose(reference.backward(zv, vv, g), numeric, atol=1e-7)


def test_concrete_K_is_bounded():
    with pytest.raises(UsageError, match="at most 8"):
        _unverified(NAME, 9)
