"""The cross-entropy gradient dL/dz_i = sigma_i Sum_k y_k - y_i = sigma_i - y_i when Sum_k y_k = 1."""
from __future__ import annotations

import sympy as sp

from ..model import Derivation, Rule, Step
from ..symbols import K, L, i, k, sigma, targets_vector, y, z
from ..algebra import index_templates, rewrites
from . import concrete, softmax_jacobian
from .common import INDEX_RANGE_I, TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, require, through_softmax_jacobian
from .common import matrix_entries_to_indexed
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
                  "definition of the cross-entropy loss", facts=("ce-definition",))
    chain.then(rewrites.chain_rule_through_probs, Rule.CHAIN_RULE,
               "chain rule through sigma_k; d(-y_k log sigma_k)/d sigma_k = -y_k / sigma_k", facts=("chain-through-sigma-k", "d-log-sigma"))
    through_softmax_jacobian(chain, jacobian)
    general = chain.current
    chain.then(lambda e: rewrites.substitute_sum(e, sp.Sum(y[k], (k, 1, K)), sp.Integer(1)), Rule.ASSUMPTION,
               "the targets sum to one", uses=USES_SUM, facts=("targets-sum-to-one",))
    entry = chain.current
    form = vector_form(K)
    require(sp.expand(matrix_entries_to_indexed(form[i, 0], shift=0) - entry) == 0, "entry i of sigma - y")
    chain.add(Step(lhs=gradient_symbol(K), rhs=form, rule=Rule.VECTOR_FORM,
                   note="entry i of sigma - y is sigma_i - y_i", facts=("entry-sigma-minus-y",), uses=USES_SUM))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=WITH_TARGETS,
                      assumptions=(INDEX_RANGE_I, TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs,
                      definitions=((L, loss_definition()),),
                      results=(("general", lhs, general),))


def build_concrete(n: int) -> Derivation:
    """L written over S = e^{z_1} + ... + e^{z_K} and differentiated through S: O(1) per entry."""
    targets = targets_vector(n)
    probs = concrete.softmax_over_S(n)
    loss = -sp.Add(*[targets[r] * sp.log(sigma[r + 1]) for r in range(n)])
    # -y_r log(e^{z_r} / S) = -y_r z_r + y_r log S (force: logits are real), expanded by SymPy once
    # for the shape and renamed for every r. Collecting log S once keeps dL/dS = (y_1 + ... + y_K) / S
    # one term.
    split_term = index_templates.PerTemplate(lambda t, p: sp.expand(sp.expand_log(-t * sp.log(p), force=True)))
    split = rewrites.collect_factor(sp.Add(*[split_term(targets[r], probs[r]) for r in range(n)]),
                                    sp.log(concrete.S))
    td = concrete.TotalDerivative([split], n)
    exp_form = td.gradient()
    sigma_td = td.rewritten(concrete.softmax_substitution(n))
    sigma_form = sigma_td.gradient()
    total = sp.Add(*targets)  # the targets' sum sits in the one factor dL/dS: replaced there once
    final = sigma_td.with_outer(lambda o: o.xreplace({total: sp.Integer(1)})).gradient()
    lhs = gradient_symbol(n)
    steps = (
        concrete.denominator_step(n),
        Step(lhs=L, rhs=loss, rule=Rule.DEFINITION, note="definition of the cross-entropy loss",
             facts=("ce-definition",)),
        Step(lhs=L, rhs=split, rule=Rule.LOG_RULES, note="log sigma_r = z_r - log S; collect log S", facts=("log-sigma-over-S", "collect-log-S")),
        Step(lhs=lhs, rhs=exp_form, rule=Rule.DIFFERENTIATE,
             note="differentiate: chain rule through S, dS/dz_c = e^{z_c}", facts=("chain-through-S", "dS-dz")),
        Step(lhs=lhs, rhs=sigma_form, rule=Rule.SUBSTITUTE_SOFTMAX, note="substitute sigma_c = e^{z_c} / S", facts=("exp-is-sigma-S",)),
        Step(lhs=lhs, rhs=final, rule=Rule.ASSUMPTION, note="the targets sum to one", uses=USES_SUM,
             facts=("targets-sum-to-one",)),
        Step(lhs=lhs, rhs=vector_form(n), rule=Rule.VECTOR_FORM, note="recognise sigma - y", facts=("is-sigma-minus-y",), uses=USES_SUM),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=WITH_TARGETS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=steps, result=final, result_lhs=lhs,
                      definitions=(*concrete.definitions(n), (L, loss)))
