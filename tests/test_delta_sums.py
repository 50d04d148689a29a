"""rewrites.sum_out_deltas: a delta sum collapsed term by term, checked against SymPy's own summation at concrete sizes."""
from __future__ import annotations

import random

import pytest
import sympy as sp

from derive.algebra.rewrites import collapse_delta_sums_quickly, ranged_facts, sum_out_deltas
from derive.symbols import K, i, j, k, y, z

m = sp.Symbol("m", integer=True, positive=True)
N = sp.Symbol("N", integer=True, positive=True)


def _at(expr, size, values):
    """expr at K = N = size with y_r, z_r given numbers: every sum done by SymPy."""
    done = expr.xreplace({K: size, N: size}).doit()
    return done.xreplace({**{y[r]: values[r] for r in range(1, size + 1)},
                          **{z[r]: values[r + size] for r in range(1, size + 1)}})


def test_the_delta_terms_collapse_and_the_others_stay_one_sum():
    summation = sp.Sum(sp.KroneckerDelta(i, k) * y[k] * sp.exp(z[k]) - y[k] * sp.exp(z[i]), (k, 1, K))
    collapsed = sum_out_deltas(summation, ranged_facts({i: K}))
    assert collapsed == y[i] * sp.exp(z[i]) + sp.Sum(-y[k] * sp.exp(z[i]), (k, 1, K))
    rng = random.Random(3)
    for size in (2, 3, 5):
        values = {r: sp.Rational(rng.randint(-9, 9), rng.randint(1, 9)) for r in range(1, 2 * size + 1)}
        for index in range(1, size + 1):
            original = _at(summation.xreplace({i: index}), size, values)
            assert sp.simplify(_at(collapsed.xreplace({i: index}), size, values) - original) == 0


def test_a_partner_summed_in_the_same_sum_collapses_only_over_the_same_range():
    same = sp.Sum(sp.KroneckerDelta(k, m) * y[k] * z[m], (k, 1, K), (m, 1, K))
    assert sum_out_deltas(same, {}) == sp.Sum(y[m] * z[m], (m, 1, K))
    other = sp.Sum(sp.KroneckerDelta(k, m) * y[k] * z[m], (k, 1, K), (m, 1, N))
    assert sum_out_deltas(other, {}) == other  # m may exceed K: left to SymPy (here: to the caller)


def test_a_partner_not_known_to_be_in_range_is_left_to_sympy():
    summation = sp.Sum(sp.KroneckerDelta(j, k) * y[k], (k, 1, K))
    assert sum_out_deltas(summation, ranged_facts({i: K})) == summation  # nothing is said about j
    assert collapse_delta_sums_quickly(summation, ranges={j: K}) == y[j]


def test_an_undecided_branch_is_not_skipped_for_the_fall_through():
    from derive.algebra.rewrites import resolve_piecewise
    d, D = sp.symbols("d D", integer=True, positive=True)
    piecewise = sp.Piecewise((y[d], sp.And(sp.Ge(d, 1), sp.Le(d, D))), (0, True))
    assert resolve_piecewise(piecewise, ranged_facts({d: D})) == y[d]
    with pytest.raises(ValueError):  # nothing is known about d: the (0, True) branch must not be taken
        resolve_piecewise(piecewise, ranged_facts({i: K}))


def test_renaming_a_sum_index_never_captures_an_inner_sums_index():
    # Sum_r b_r Sum_k a_{k,r} renamed to k would read Sum_k b_k Sum_k a_{k,k}: a different number,
    # which once let prove_equal call a false equality proved.
    from derive.algebra.rewrites import _CANONICAL_DUMMIES, same_dummy
    k = _CANONICAL_DUMMIES[0]
    r, K = sp.Symbol("r", integer=True), sp.Symbol("K", integer=True, positive=True)
    a, b = sp.IndexedBase("a"), sp.IndexedBase("b")
    original = sp.Sum(b[r] * sp.Sum(a[k, r], (k, 1, K)), (r, 1, K))
    renamed = same_dummy(original)
    values = {a[i, j]: 10 * i + j for i in (1, 2) for j in (1, 2)} | {b[1]: 3, b[2]: 5}
    def at_two(expr):
        return expr.subs(K, 2).doit().subs(values)
    assert at_two(renamed) == at_two(original) == 3 * (11 + 21) + 5 * (12 + 22)
