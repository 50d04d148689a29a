"""The cross-entropy gradient dL/dz_i = sigma_i Sum_k y_k - y_i = sigma_i - y_i when Sum_k y_k = 1."""
from __future__ import annotations

import sympy as sp

from ..model import Derivation, Rule, Step
from ..symbols import (K, L, explicit_softmax, i, j, k, logits_vector, sigma, targets_vector, y, z)
from . import rewrites, softmax_jacobian
from .common import INDEX_RANGE_I, TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, entrywise, require
from .common import column_entries_to_indexed
from .roles import WITH_TARGETS

NAME = "cross-entropy-gradient"
TITLE = "The gradient of the softmax cross-entropy loss"
DESCRIPTION = "dL/dz_i = sigma_i - y_i for L = -sum_k y_k log sigma_k and sum_k y_k = 1; vector form sigma - y"

USES_SUM = (TARGETS_SUM_TO_ONE.id,)


def loss_definition() -> sp.Expr:
    return -sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K))


def vector_form(size) -> sp.MatrixExpr:
    return sp.MatrixSymbol("sigma", size, 1) - sp.MatrixSymbol("y", size, 1)


def gradient_symbol(size) -> sp.Derivative:
    return sp.Derivative(L, sp.MatrixSymbol("z", size, 1), evaluate=False)


def build_symbolic() -> Derivation:
    jacobian = softmax_jacobian.build_symbolic()  # its result is substituted, not retyped
    lhs = sp.Derivative(L, z[i], evaluate=False)
    chain = Chain(lhs, sp.Derivative(loss_definition(), z[i], evaluate=False),
                  "definition of the cross-entropy loss")
    chain.then(rewrites.chain_rule_through_probs, Rule.CHAIN_RULE,
               "chain rule through sigma_k; d(-y_k log sigma_k)/d sigma_k = -y_k / sigma_k")
    chain.then(lambda e: rewrites.substitute_derivative(e, jacobian.result_lhs, jacobian.result,
                                                        pattern_indices=(i, j)),
               Rule.SUBSTITUTE_RESULT, "the softmax Jacobian: d sigma_k / d z_i = sigma_k (delta_ki - sigma_i)")
    chain.then(rewrites.expand_sums, Rule.LINEARITY, "split the sum; sigma_i does not depend on k")
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i,)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= i <= K)")
    general = chain.current
    chain.then(lambda e: rewrites.substitute_sum(e, sp.Sum(y[k], (k, 1, K)), sp.Integer(1)), Rule.ASSUMPTION,
               "the targets sum to one", uses=USES_SUM)
    entry = chain.current
    form = vector_form(K)
    require(sp.expand(column_entries_to_indexed(form[i, 0], shift=0) - entry) == 0, "entry i of sigma - y")
    chain.add(Step(lhs=gradient_symbol(K), rhs=form, rule=Rule.VECTOR_FORM,
                   note="entry i of sigma - y is sigma_i - y_i", uses=USES_SUM))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=WITH_TARGETS,
                      assumptions=(INDEX_RANGE_I, TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs,
                      definitions=((L, loss_definition()),),
                      results=(("general", lhs, general),))


def build_concrete(n: int) -> Derivation:
    targets = targets_vector(n)
    loss = -sp.Add(*[targets[r] * sp.log(sigma[r + 1]) for r in range(n)])
    explicit_loss = -sp.Add(*[targets[r] * sp.log(explicit_softmax(n)[r]) for r in range(n)])
    definition = Step(lhs=L, rhs=loss, rule=Rule.DEFINITION, note="definition of the cross-entropy loss")
    lhs = sp.Matrix(n, 1, lambda r, _c: sp.Derivative(L, z[r + 1], evaluate=False))
    expanded_loss = sp.expand_log(explicit_loss, force=True)  # force: logits are real
    definition_in_z = Step(lhs=L, rhs=expanded_loss, rule=Rule.LOG_RULES,
                           note="log of a quotient; log e^{z_r} = z_r")
    chain = Chain(lhs, sp.Matrix([expanded_loss]).jacobian(logits_vector(n)).T,
                  "differentiate the loss (SymPy's gradient)", rule=Rule.DIFFERENTIATE)
    chain.then(entrywise(lambda e: rewrites.explicit_denominators_to_softmax(e, n)), Rule.SUBSTITUTE_SOFTMAX,
               "substitute sigma_r = e^{z_r} / (e^{z_1} + ... + e^{z_K})")
    chain.then(entrywise(lambda e: sp.collect(e, [sigma[r] for r in range(1, n + 1)])), Rule.FACTOR,
               "collect the terms in sigma_r")
    total = sp.Add(*targets)
    chain.then(entrywise(lambda e: e.subs(total, 1)), Rule.ASSUMPTION,
               "the targets sum to one", uses=USES_SUM)
    explicit = chain.current
    form = vector_form(n)
    made = column_entries_to_indexed(sp.Matrix(form.as_explicit()))
    require(all(sp.expand(a - b) == 0 for a, b in zip(made, explicit)), "the vector equals sigma - y")
    chain.add(Step(lhs=lhs, rhs=form, rule=Rule.VECTOR_FORM, note="recognise sigma - y", uses=USES_SUM))
    return Derivation(name=NAME, title=TITLE, K=n, symbols=WITH_TARGETS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=(definition, definition_in_z, *chain.steps), result=explicit, result_lhs=lhs,
                      definitions=((L, explicit_loss),))
