"""Concrete-K machinery: index templates, the fast explicit matrix, and the prover's verdicts.

Templates let one SymPy proof or derivative stand for every index with the same shape; these tests
check that the instances are exactly what SymPy computes directly, and that an entry which differs
from its neighbours (an off-by-one index) is not carried along by a neighbour's proof.
"""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from derive.algebra import index_templates
from derive.engine import build, concrete
from derive.model import Rule
from derive.symbols import sigma, y, z
from derive.verify.concrete import Prover


def _structured_steps(derivation):
    return [s for s in derivation.steps if isinstance(s.rhs, concrete.StructuredMatrix)]


@pytest.mark.parametrize("name", ["softmax-jacobian", "log-softmax-jacobian"])
@pytest.mark.parametrize("n", [2, 3, 7, 13])
def test_fast_explicit_matrix_is_what_mul_builds(name, n):
    steps = _structured_steps(build(name, n))
    assert steps
    for step in steps:
        diagonal, left, right = step.rhs.args
        fast = step.rhs.as_explicit()
        slow = [[diagonal[r] if r == c else left[r] * right[c] for c in range(n)] for r in range(n)]
        for r in range(n):
            for c in range(n):
                assert fast[r, c] == slow[r][c] and fast[r, c].args == slow[r][c].args, (r, c)


def test_template_renames_every_index_and_back():
    expr = sigma[3] * y[5] + sp.exp(z[3])
    (renamed,), back = index_templates.template(expr)
    assert not any(ix.is_Integer for atom in renamed.atoms(sp.Indexed) for ix in atom.indices)
    assert renamed.xreplace(back) == expr
    (shared,), _ = index_templates.template(sigma[2] * y[9] + sp.exp(z[2]))
    assert shared == renamed  # the same relative order of indices: one template
    (other,), _ = index_templates.template(sigma[9] * y[2] + sp.exp(z[9]))
    assert other != renamed


def _random_expression(picks, ops, indices):
    leaves = [lambda r: sigma[r], lambda r: y[r], lambda r: sp.exp(z[r]), lambda r: sp.exp(-2 * z[r]),
              lambda r: concrete.S, lambda r: sp.log(sigma[r]), lambda r: sp.Integer(r) / 3]
    expr = leaves[picks[0]](indices[0])
    for pick, (op, power), index in zip(picks[1:], ops, indices[1:]):
        term = leaves[pick](index) ** power
        expr = expr + term if op == "+" else (expr - term if op == "-" else expr * term)
    return expr


@settings(max_examples=150, deadline=None)
@given(picks=st.lists(st.integers(0, 6), min_size=2, max_size=14),
       ops=st.lists(st.tuples(st.sampled_from("+-*"), st.integers(-2, 2)), min_size=13, max_size=13),
       indices=st.lists(st.integers(1, 60), min_size=14, max_size=14))
def test_fast_renaming_builds_what_xreplace_builds(picks, ops, indices):
    """template() and instantiate() assemble sums and products already sorted: the very objects
    (argument order included) that SymPy's xreplace builds. Up to 14 distinct indices:
    from 11 on, placeholder names (p_{10} < p_{2}) sort unlike the integers they stand for."""
    _assert_renaming_is_xreplace(_random_expression(picks, ops, indices))


def _assert_renaming_is_xreplace(expr):
    (renamed,), back = index_templates.template(expr)
    values = sorted({int(ix) for atom in expr.atoms(sp.Indexed) for ix in atom.indices})
    forward = {atom: atom.base[tuple(index_templates.placeholder(values.index(int(ix))) for ix in atom.indices)]
               for atom in expr.atoms(sp.Indexed)}
    assert _identical(renamed, expr.xreplace(forward))
    assert _identical(index_templates.instantiate(renamed, back), expr)
    assert _identical(index_templates.instantiate(renamed, back), renamed.xreplace(back))


def _identical(a, b) -> bool:
    """The same tree, argument order included (srepr would not do: it prints terms sorted)."""
    return type(a) is type(b) and a.args == b.args and all(_identical(x, y) for x, y in zip(a.args, b.args))


@pytest.mark.parametrize("make", [
    lambda: sp.Add(*[sigma[r] * y[r] for r in range(1, 15)]),              # terms re-sorted
    lambda: -sp.Mul(*[sp.exp(z[r]) for r in range(3, 30, 2)]) / concrete.S,   # factors re-sorted
    lambda: sp.log(sp.Add(*[y[r] for r in range(1, 13)])) * sigma[12] - 2 * sigma[11]])
def test_many_indices_come_back_in_sympys_order(make):
    _assert_renaming_is_xreplace(make())


@settings(max_examples=150, deadline=None)
@given(picks=st.lists(st.integers(0, 6), min_size=2, max_size=6),
       ops=st.lists(st.tuples(st.sampled_from("+-*"), st.integers(-2, 2)), min_size=5, max_size=5),
       first=st.lists(st.integers(1, 30), min_size=6, max_size=6),
       second=st.lists(st.integers(1, 30), min_size=6, max_size=6))
def test_signatures_agree_exactly_when_templates_do(picks, ops, first, second):
    """The caches key on signature(): equal keys must mean equal templates (a hit reuses a proof)."""
    a, b = _random_expression(picks, ops, first), _random_expression(picks, ops, second)
    (key_a, values_a), (key_b, values_b) = index_templates.signature(a), index_templates.signature(b)
    (template_a,), back_a = index_templates.template(a)
    (template_b,), back_b = index_templates.template(b)
    assert (key_a == key_b) == (template_a == template_b)
    assert index_templates.placeholders_back(values_a) == back_a


def test_one_shape_one_signature():
    shape = lambda r, c: sigma[r] * (sp.KroneckerDelta(r, c) - sigma[c]) + y[c] * sp.exp(z[r]) / concrete.S
    keys = {index_templates.signature(shape(r, c))[0] for r in range(1, 20) for c in range(r + 1, 20)}
    assert len(keys) == 1
    assert index_templates.signature(shape(5, 2))[0] not in keys  # the other order of indices


def test_a_placeholder_outside_an_index_is_substituted_by_sympy():
    p0, p1 = index_templates.placeholder(0), index_templates.placeholder(1)
    expr = sigma[p0] * sp.KroneckerDelta(p0, p1)
    assert index_templates.instantiate(expr, {p0: sp.Integer(3), p1: sp.Integer(4)}) == 0  # delta_34 = 0


_SHAPES = [
    lambda r, c: sp.exp(z[r]) / concrete.S,
    lambda r, c: -y[r] * z[r] + y[r] * sp.log(concrete.S),
    lambda r, c: sp.exp(z[r]) * sp.exp(z[c]) / concrete.S ** 2,
    lambda r, c: sigma[r] * (sp.KroneckerDelta(r, c) - sigma[c]),
]


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from(range(len(_SHAPES))), r=st.integers(1, 40), c=st.integers(1, 40),
       wrt=st.sampled_from(["z_r", "z_c", "S", "sigma_c"]))
def test_templated_derivative_is_sympys_derivative(shape, r, c, wrt):
    expr = _SHAPES[shape](r, c)
    variable = {"z_r": z[r], "z_c": z[c], "S": concrete.S, "sigma_c": sigma[c]}[wrt]
    assert index_templates.differentiate(expr, variable) == sp.diff(expr, variable)


def _replace_step(derivation, rule, new_rhs):
    return next(dataclasses.replace(s, rhs=new_rhs) for s in derivation.steps if s.rule == rule)


@pytest.mark.parametrize("n", [5, 12])
def test_prover_proves_every_step(n):
    for name in ("softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient", "softmax-vjp",
                 "temperature-softmax-jacobian"):
        derivation = build(name, n)
        prover = Prover(derivation)
        assert all(prover.prove(step) is True for step in derivation.steps), name


def _wrong_diagonal(diagonal, left, right, n):
    diagonal[n - 2] = diagonal[n - 1]  # sigma_K (1 - sigma_K) where sigma_{K-1} (1 - sigma_{K-1}) belongs


def _wrong_row_factor(diagonal, left, right, n):
    left[3] = left[2]  # row 4 of the rank-one part uses sigma_3


@pytest.mark.parametrize("n", [5, 12])
@pytest.mark.parametrize("break_it", [_wrong_diagonal, _wrong_row_factor])
def test_off_by_one_jacobian_entry_is_not_proved(n, break_it):
    derivation = build("softmax-jacobian", n)
    factored = next(s for s in derivation.steps if s.rule == Rule.FACTOR).rhs
    diagonal, left, right = (list(part) for part in factored.args)
    break_it(diagonal, left, right, n)
    wrong = _replace_step(derivation, Rule.FACTOR, concrete.StructuredMatrix(diagonal, left, right))
    assert Prover(derivation).prove(wrong) is not True


@pytest.mark.parametrize("n", [5, 12])
def test_off_by_one_gradient_entry_is_not_proved(n):
    derivation = build("cross-entropy-gradient", n)
    final = next(s for s in derivation.steps if s.rule == Rule.ASSUMPTION).rhs
    entries = list(final)
    entries[n - 2] = sigma[n] - y[n - 1]  # sigma_K where sigma_{K-1} belongs
    wrong = _replace_step(derivation, Rule.ASSUMPTION, sp.ImmutableMatrix(entries))
    assert Prover(derivation).prove(wrong) is not True


@pytest.mark.parametrize("n", [5, 12])
def test_a_vjp_entry_off_by_one_or_with_a_wrong_inner_product_is_not_proved(n):
    """The inner product g^T sigma is proved as one symbol (Prover.folded): a wrong sum, or an
    entry with a neighbour's g, must not be proved (the claim with the symbol free is stronger)."""
    from derive.symbols import g
    derivation = build("softmax-vjp", n)
    chained = list(next(s for s in derivation.steps if s.rule == Rule.CHAIN_RULE).rhs)
    total = sp.Add(*[g[r] * sigma[r] for r in range(1, n + 1)])
    short = sp.Add(*[g[r] * sigma[r] for r in range(1, n)])  # sigma_K g_K left out
    for wrong_entry in (g[2] * sigma[1] - sigma[1] * total, g[1] * sigma[1] - sigma[1] * short,
                        g[1] * sigma[1] - sigma[2] * total):
        wrong = _replace_step(derivation, Rule.CHAIN_RULE, sp.ImmutableMatrix([wrong_entry, *chained[1:]]))
        assert Prover(derivation).prove(wrong) is not True, wrong_entry


@pytest.mark.parametrize("n", [5, 12])
def test_a_temperature_jacobian_without_its_1_over_T_is_not_proved(n):
    from derive.engine import softmax_jacobian
    derivation = build("temperature-softmax-jacobian", n)
    wrong = _replace_step(derivation, Rule.MATRIX_FORM, softmax_jacobian.matrix_form(n))
    assert Prover(derivation).prove(wrong) is not True


def test_a_wrong_loss_step_fails_numerically():
    """L written without its log S part: both the proof and the 50-digit numbers must object."""
    from derive.errors import VerificationError
    from derive.verify import verify_derivation
    derivation = build("cross-entropy-gradient", 6)
    split = next(s for s in derivation.steps if s.rule == Rule.LOG_RULES).rhs
    wrong = split.xreplace({sp.log(concrete.S): 0})
    broken = dataclasses.replace(derivation, steps=tuple(
        dataclasses.replace(s, rhs=wrong) if s.rule == Rule.LOG_RULES else s for s in derivation.steps))
    with pytest.raises(VerificationError, match="numerically"):
        verify_derivation(broken)


def test_a_wrong_gradient_entry_fails_numerically():
    from derive.errors import VerificationError
    from derive.verify import verify_derivation
    derivation = build("cross-entropy-gradient", 6)
    entries = list(next(s for s in derivation.steps if s.rule == Rule.ASSUMPTION).rhs)
    entries[0] = sigma[1] + y[1]
    broken = dataclasses.replace(derivation, steps=tuple(
        dataclasses.replace(s, rhs=sp.ImmutableMatrix(entries)) if s.rule == Rule.ASSUMPTION else s
        for s in derivation.steps))
    with pytest.raises(VerificationError, match="numerically"):
        verify_derivation(broken)


def test_targets_collect_into_their_sum_only_when_every_class_shares_one_coefficient():
    """dL/dS of label smoothing, (eps + (1 - eps) y_1 + ... + (1 - eps) y_K) / S: the targets' sum
    appears (and becomes its atom in the proofs) only when it is the whole sum with one coefficient."""
    from derive.symbols import epsilon
    from derive.verify.concrete import collect_targets
    n = 6
    total = sp.Add(*[y[r] for r in range(1, n + 1)])
    smoothed = epsilon + sp.Add(*[(1 - epsilon) * y[r] for r in range(1, n + 1)])
    assert collect_targets(smoothed, n) == epsilon + (1 - epsilon) * total
    short = epsilon + sp.Add(*[(1 - epsilon) * y[r] for r in range(1, n)])
    assert collect_targets(short, n) == short
    mixed = smoothed - (1 - epsilon) * y[3] + (1 - 2 * epsilon) * y[3]
    assert not collect_targets(mixed, n).has(total)
