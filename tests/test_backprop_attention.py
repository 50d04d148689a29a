"""attention-backward against an independent reverse pass: mpmath.diff of a plain attention loss, NumPy finite differences."""
from __future__ import annotations

import dataclasses
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from backprop_helpers import json_results, verified, verify_one
from derive.engine import REGISTRY, build as _unverified
from derive.engine.attention_forward import MAX_PROVED_ENTRIES, O, P, Q, Kmat, V, dO, dP, dS, sums_in_normal_form
from derive.errors import UsageError, VerificationError
from derive.verify.generic import prove_equal, with_definitions
from derive.reference import attention_backward as reference
from derive.symbols import D as D_SYMBOL, K as K_SYMBOL, N as N_SYMBOL, d, j, n
from oracles import as_mpf, finite_difference_gradient, instantiate_values, softmax_mp

NAME = "attention-backward"
TOL = mpmath.mpf("1e-9")


# --- the oracle: plain mpmath, nothing shared with derive ------------------------------------------

def _scores(q, keys):
    scale = 1 / mpmath.sqrt(len(q[0]))
    return [[mpmath.fsum(a * b for a, b in zip(row, key)) * scale for key in keys] for row in q]


def _output(probs, values):
    return [[mpmath.fsum(p * v[c] for p, v in zip(row, values)) for c in range(len(values[0]))] for row in probs]


def _loss_of_output(out, upstream):
    """A scalar whose gradient with respect to O is the given upstream dO."""
    return mpmath.fsum(a * b for row, up in zip(out, upstream) for a, b in zip(row, up))


def _loss(q, keys, values, upstream):
    probs = [softmax_mp(row) for row in _scores(q, keys)]
    return _loss_of_output(_output(probs, values), upstream)


def _moved(matrix, r, c, t):
    out = [list(row) for row in matrix]
    out[r][c] = t
    return out


def _gradient(fn, matrix):
    """d fn / d matrix[r][c] for every entry, by mpmath.diff."""
    return [[mpmath.diff(lambda t: fn(_moved(matrix, r, c, t)), matrix[r][c]) for c in range(len(matrix[0]))]
            for r in range(len(matrix))]


def _point(keys, queries, head, seed):
    rng = random.Random(seed)
    matrix = lambda rows, cols: [[mpmath.mpf(rng.uniform(-1.5, 1.5)) for _ in range(cols)] for _ in range(rows)]
    return matrix(queries, head), matrix(keys, head), matrix(keys, head), matrix(queries, head)


def _oracle(q, keys, values, upstream):
    """Every gradient by numeric differentiation of the plain forward pass (P and S taken as inputs
    for dP and dS), and the forward values the results are written in."""
    scores = _scores(q, keys)
    probs = [softmax_mp(row) for row in scores]
    return {
        "Q": _gradient(lambda t: _loss(t, keys, values, upstream), q),
        "K": _gradient(lambda t: _loss(q, t, values, upstream), keys),
        "V": _gradient(lambda t: _loss(q, keys, t, upstream), values),
        "P": _gradient(lambda t: _loss_of_output(_output(t, values), upstream), probs),
        "S": _gradient(lambda t: _loss_of_output(_output([softmax_mp(row) for row in t], values), upstream), scores),
        "probs": probs, "out": _output(probs, values),
    }


# (K, N, D) of the JSON; sizes tested at for symbolic sizes
CASES = [(None, (3, 2, 2)), (None, (2, 3, 1)), ((2, 2, 2), (2, 2, 2)), ((3, 1, 2), (3, 1, 2))]
AT = {"V": (j, d), "P": (n, j), "S": (n, j), "Q": (n, d), "K": (j, d)}


@pytest.mark.parametrize("concrete, sizes", CASES)
def test_json_results_match_an_independent_reverse_pass(concrete, sizes):
    keys_n, queries_n, head_n = sizes
    q, keys, values, upstream = _point(*sizes, seed=sum(sizes))
    expected = _oracle(q, keys, values, upstream)
    K_, D_, N_ = (None, None, None) if concrete is None else (concrete[0], concrete[2], concrete[1])
    results = json_results(NAME, K_, D_, N_)
    arrays = {Q: q, Kmat: keys, V: values, dO: upstream, P: expected["probs"], O: expected["out"],
              dP: expected["P"], dS: expected["S"]}
    sized = {K_SYMBOL: keys_n, N_SYMBOL: queries_n, D_SYMBOL: head_n}
    checked = 0
    for name, (row, col) in AT.items():
        truth = expected[name]
        for a in range(len(truth)):
            for b in range(len(truth[0])):
                entry = results[name] if concrete is None else results[name][a, b]
                scalars = {**sized, row: a + 1, col: b + 1} if concrete is None else {}
                got = as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays))
                assert abs(got - truth[a][b]) < TOL, (name, a, b)
                checked += 1
    assert checked == 2 * keys_n * head_n + 2 * queries_n * keys_n + queries_n * head_n


@pytest.mark.parametrize("concrete, sizes", CASES[:1] + CASES[2:3])
def test_rowsum_identity_result(concrete, sizes):
    """Sum_k dP_nk P_nk = Sum_r dO_nr O_nr, with every value from the oracle."""
    q, keys, values, upstream = _point(*sizes, seed=7)
    expected = _oracle(q, keys, values, upstream)
    K_, D_, N_ = (None, None, None) if concrete is None else (concrete[0], concrete[2], concrete[1])
    identity = json_results(NAME, K_, D_, N_)["rowsum"]
    arrays = {P: expected["probs"], O: expected["out"], dP: expected["P"], dO: upstream}
    for a in range(sizes[1]):
        direct = mpmath.fsum(x * y for x, y in zip(expected["P"][a], expected["probs"][a]))
        entry = identity if concrete is None else identity[a, 0]
        scalars = {K_SYMBOL: sizes[0], N_SYMBOL: sizes[1], D_SYMBOL: sizes[2], n: a + 1} if concrete is None else {}
        assert abs(as_mpf(instantiate_values(entry, scalars=scalars, arrays=arrays)) - direct) < TOL


@pytest.mark.parametrize("shift", [0.0, 700.0])
def test_reference_matches_finite_differences(shift):
    """At shift 700 the scores are near 700 * 4 / sqrt(3): a naive exp would overflow."""
    rng = np.random.default_rng(11)
    Qv, Kv, Vv, dOv = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    Qv[:, 0] += shift / 100
    Kv[:, 0] += shift / 10
    dQ, dK, dV = reference.backward(Qv, Kv, Vv, dOv)
    loss = lambda Qx, Kx, Vx: float(np.sum(dOv * reference.forward(Qx, Kx, Vx)[0]))
    h = 1e-6
    for grad, index, shape in ((dQ, 0, Qv.shape), (dK, 1, Kv.shape), (dV, 2, Vv.shape)):
        inputs = [Qv, Kv, Vv]
        def moved(flat, index=index, shape=shape):
            args = list(inputs)
            args[index] = np.array(flat).reshape(shape)
            return loss(*args)
        numeric = finite_difference_gradient(moved, list(inputs[index].ravel()), h=h)
        assert np.all(np.isfinite(grad)) and np.allclose(grad.ravel(), numeric, atol=1e-5)


def test_reference_rowsum_identity():
    rng = np.random.default_rng(5)
    Qv, Kv, Vv, dOv = rng.normal(size=(3, 2)), rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), rng.normal(size=(3, 2))
    O_, P_ = reference.forward(Qv, Kv, Vv)
    assert np.allclose(np.sum((dOv @ Vv.T) * P_, axis=1), np.sum(dOv * O_, axis=1))


@pytest.mark.parametrize("K, D, N", [(None, None, None), (2, 2, 2), (3, 2, 2)])
def test_every_step_verified_and_most_proved(K, D, N):
    derivation = verified(NAME, K, D, N)
    for step in derivation.steps:
        assert step.evidence.points > 0 and step.evidence.numeric_max_abs_error < 1e-25
    unproved = [step.rule.value for step in derivation.steps if not step.evidence.symbolic]
    # Every entry-wise step is proved but dQ's chain rule at symbolic sizes; the five matrix forms (and
    # the rowsum's vector form at symbolic sizes) rest on SymPy writing them out at small sizes
    # (_confirm_forms) and on the numbers.
    symbolic_only = ["vector-form", "chain-rule"] if K is None else []
    if K is not None and K * D * N > MAX_PROVED_ENTRIES:  # the 50-digit numbers alone, never a claimed proof
        assert len(unproved) == len(derivation.steps)
    else:
        assert sorted(unproved) == sorted(["matrix-form"] * 5 + symbolic_only)
    assert REGISTRY[NAME].sizes == ("K", "D", "N")
    assert dict(derivation.shapes)["dK"] == "K x D"


def test_dropping_the_rowsum_term_is_rejected():
    """dS = P * dP (forgetting the softmax's normalisation) must fail: the verifier can fail."""
    derivation = _unverified(NAME)
    steps = list(derivation.steps)
    index = next(k for k, s in enumerate(steps) if s.rule.value == "rowsum-identity")
    wrong = dataclasses.replace(steps[index], rhs=P[n, j] * dP[n, j], evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, wrong)


def test_a_wrong_scale_is_rejected():
    """dQ without the 1/sqrt(D) must fail: test points have D = 2."""
    derivation = _unverified(NAME)
    steps = list(derivation.steps)
    index = max(k for k, s in enumerate(steps) if s.rule.value == "factor" and s.lhs.has(Q))
    wrong = dataclasses.replace(steps[index], rhs=steps[index].rhs * sp.sqrt(2), evidence=None)
    with pytest.raises(VerificationError):
        verify_one(derivation, wrong)


def test_concrete_sizes_are_bounded():
    with pytest.raises(UsageError, match="at most"):
        _unverified(NAME, 9, 2, 2)
    with pytest.raises(UsageError, match="at least 2"):
        _unverified(NAME, 3, 1, 2)


def test_sum_normal_form_renames_without_capture():
    """Sum_r b_r Sum_k a_kr and Sum_r b_r Sum_k a_kk differ; renaming r to k inside Sum_k would make
    them look equal. The fused forms differ, and an exchanged sum meets its original."""
    r = sp.Symbol("r", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    a, b = sp.IndexedBase("a"), sp.IndexedBase("b")
    mixed = sp.Sum(b[r] * sp.Sum(a[k, r], (k, 1, K_SYMBOL)), (r, 1, D_SYMBOL))
    diagonal = sp.Sum(b[r] * sp.Sum(a[k, k], (k, 1, K_SYMBOL)), (r, 1, D_SYMBOL))
    exchanged = sp.Sum(sp.Sum(b[r] * a[k, r], (r, 1, D_SYMBOL)), (k, 1, K_SYMBOL))
    assert sums_in_normal_form(mixed) != sums_in_normal_form(diagonal)
    assert sums_in_normal_form(mixed) == sums_in_normal_form(exchanged)
    values = {K_SYMBOL: 2, D_SYMBOL: 3}
    for expr in (mixed, diagonal):
        assert sp.expand(sums_in_normal_form(expr).subs(values).doit() - expr.subs(values).doit()) == 0


def test_symbolic_proof_refuses_a_wrong_exchange():
    """The exchanged sums with V's indices swapped (V_rk for V_kr) are not proved: the proof can fail."""
    derivation = _unverified(NAME)
    step = next(s for s in derivation.steps if s.rule.value == "swap-sums")
    wrong = dataclasses.replace(step, rhs=step.rhs.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == V, lambda e: V[e.indices[1], e.indices[0]]), evidence=None)
    assert wrong.rhs != step.rhs
    assert prove_equal(with_definitions(wrong, derivation.definitions), semantics=derivation.semantics) is not True
    assert prove_equal(with_definitions(step, derivation.definitions), semantics=derivation.semantics) is True
