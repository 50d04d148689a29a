"""Cross-entropy with label smoothing: targets (1 - eps) y + eps/K give dL/dz_i = sigma_i - (1 - eps) y_i - eps/K."""
from __future__ import annotations

import mpmath
import sympy as sp

from ..model import Assumption, Derivation, Rule, Semantics, Step, SymbolRole
from ..symbols import K, L, epsilon, i, k, q, sigma, targets_vector, y, z
from ..algebra import index_templates, rewrites
from . import concrete, softmax_jacobian
from .common import (INDEX_RANGE_I, TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, explicit_sizes_match,
                     probs_definitions_layer, require, through_softmax_jacobian)
from .roles import WITH_TARGETS

NAME = "label-smoothing-gradient"
TITLE = "The cross-entropy gradient with label smoothing"
DESCRIPTION = "targets q = (1 - eps) y + eps/K: dL/dz_i = sigma_i - (1 - eps) y_i - eps/K"

SMOOTHING = SymbolRole("smoothing", "epsilon", "label-smoothing weight, 0 <= epsilon <= 1")
SMOOTHED = SymbolRole("smoothed-targets", "q", "smoothed targets (1 - epsilon) y + epsilon / K")
SYMBOLS = (*WITH_TARGETS, SMOOTHING, SMOOTHED)
SMOOTHING_RANGE = Assumption("smoothing-range", sp.And(sp.Le(0, epsilon), sp.Le(epsilon, 1)))
USES_SUM = (TARGETS_SUM_TO_ONE.id,)


def smoothed(index, size=K) -> sp.Expr:
    return (1 - epsilon) * y[index] + epsilon / size


def _smooth(expr: sp.Basic, size=None) -> sp.Basic:
    """q_x -> (1 - eps) y_x + eps/K (K the concrete size when there is one)."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == q,
                        lambda e: smoothed(e.indices[0], K if size is None else size))


def _random_smoothing(rng, arrays) -> dict:
    return {epsilon: mpmath.mpf(rng.uniform(0.05, 0.3))}


SEMANTICS = Semantics(
    scalars=_random_smoothing,
    derived={"q": lambda env: [(1 - env.scalars[epsilon]) * t + env.scalars[epsilon] / env.K for t in env.array("y")]},
    layers=(((), lambda expr, n: _smooth(expr, n)), probs_definitions_layer()),
)
# At a concrete K the steps hold no q (it is written out in the loss), and sigma is softmax(z), so a
# point keeps the default derived values (log sigma by one log-sum-exp, not K logs per loss).
CONCRETE_SEMANTICS = Semantics(scalars=_random_smoothing)


def loss_definition(size=K) -> sp.Expr:
    if isinstance(size, int):
        return -sp.Add(*[q[r] * sp.log(sigma[r]) for r in range(1, size + 1)])
    return -sp.Sum(q[k] * sp.log(sigma[k]), (k, 1, size))


def vector_form(size) -> sp.MatrixExpr:
    return (sp.MatrixSymbol("sigma", size, 1) - (1 - epsilon) * sp.MatrixSymbol("y", size, 1)
            - (epsilon / size) * sp.OneMatrix(size, 1))


def gradient_symbol(size) -> sp.Derivative:
    return sp.Derivative(L, sp.MatrixSymbol("z", size, 1), evaluate=False)


def smoothed_targets_sum_to_one() -> list[Step]:
    """Sum_k q_k = (1 - eps) Sum_k y_k + eps = 1: the smoothed targets are a distribution too."""
    total = sp.Sum(q[k], (k, 1, K))
    side = Chain(total, _smooth(total), "definition of the smoothed targets", facts=("smoothed-targets-definition",), rule=Rule.DEFINITION)
    side.then(_split_and_count, Rule.LINEARITY,
              "split the sum; Sum_k eps/K = eps", facts=("sum-splits", "sum-eps-over-K"))
    side.then(lambda e: rewrites.substitute_sum(e, sp.Sum(y[k], (k, 1, K)), sp.Integer(1)), Rule.ASSUMPTION,
              "the targets sum to one", uses=USES_SUM, facts=("targets-sum-to-one",))
    return side.steps


def _split_and_count(expr: sp.Expr) -> sp.Expr:
    """Linearity, then let SymPy do sums of terms free of the dummy (Sum_k eps/K = eps)."""
    split = rewrites.expand_sums(expr)
    return split.replace(lambda s: isinstance(s, sp.Sum) and not s.function.has(*s.variables), lambda s: s.doit())


def build_symbolic() -> Derivation:
    jacobian = softmax_jacobian.build_symbolic()  # its result is substituted, not retyped
    side = smoothed_targets_sum_to_one()
    require(side[-1].rhs == 1, "the smoothed targets sum to one")
    lhs = sp.Derivative(L, z[i], evaluate=False)
    chain = Chain(lhs, sp.Derivative(loss_definition(), z[i], evaluate=False),
                  "cross-entropy against the smoothed targets q_k = (1 - eps) y_k + eps/K", facts=("ce-smoothed-definition",))
    chain.then(rewrites.chain_rule_through_probs, Rule.CHAIN_RULE,
               "chain rule through sigma_k; d(-q_k log sigma_k)/d sigma_k = -q_k / sigma_k", facts=("chain-through-sigma-k", "d-log-sigma-q"))
    through_softmax_jacobian(chain, jacobian)
    general = chain.current
    chain.then(lambda e: rewrites.substitute_sum(e, side[0].lhs, side[-1].rhs), Rule.ASSUMPTION,
               "the smoothed targets sum to one (shown above)", facts=("smoothed-targets-sum-to-one",), uses=USES_SUM)
    chain.then(_smooth, Rule.SUBSTITUTE_RESULT, "substitute q_i = (1 - eps) y_i + eps/K", facts=("substitute-q",), uses=USES_SUM)
    entry = chain.current
    require(explicit_sizes_match(vector_form, entry, row=i), "entry i of sigma - (1 - eps) y - (eps/K) 1")
    chain.add(Step(lhs=gradient_symbol(K), rhs=vector_form(K), rule=Rule.VECTOR_FORM, uses=USES_SUM,
                   note="entry i of sigma - (1 - eps) y - (eps/K) 1; eps = 0 gives back sigma - y",
                   facts=("entry-smoothed", "eps-zero-gives-ce")))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS,
                      assumptions=(INDEX_RANGE_I, TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE, SMOOTHING_RANGE),
                      steps=(*side, *chain.steps), result=entry, result_lhs=lhs,
                      definitions=((L, loss_definition()),), results=(("general", lhs, general),),
                      semantics=SEMANTICS)


def _loss_over_S(n: int, smoothed_targets: dict) -> sp.Expr:
    """L = (q_1 + ... + q_K) log S - sum_r q_r z_r with q written out, and the sum of the q_r split by
    linearity once into (1 - eps)(y_1 + ... + y_K) + eps: the one factor where the targets' sum is
    later replaced by 1."""
    probs = concrete.softmax_over_S(n)
    # -q_r log(e^{z_r} / S) = -q_r z_r + q_r log S (force: logits are real), with q_r kept one symbol so
    # that it is not multiplied out; once for the shape, renamed for every r.
    split_term = index_templates.PerTemplate(lambda t, p: sp.expand(sp.expand_log(-t * sp.log(p), force=True)))
    in_q = rewrites.collect_factor(sp.Add(*[split_term(q[r], probs[r - 1]) for r in range(1, n + 1)]),
                                   sp.log(concrete.S))
    smoothed_sum = rewrites.collect_factor(_split_and_count(_smooth(sp.Sum(q[k], (k, 1, n)), n)),
                                           sp.Sum(y[k], (k, 1, n))).doit()
    return in_q.xreplace({sp.Add(*[q[r] for r in range(1, n + 1)]): smoothed_sum, **smoothed_targets})


def build_concrete(n: int) -> Derivation:
    """The cross-entropy gradient's construction (engine.cross_entropy) with the smoothed targets for
    y: L over S = e^{z_1} + ... + e^{z_K}, differentiated through S, O(1) per entry."""
    smoothed_targets = {q[r]: smoothed(r, n) for r in range(1, n + 1)}
    loss = -sp.Add(*[smoothed_targets[q[r]] * sp.log(sigma[r]) for r in range(1, n + 1)])
    split = _loss_over_S(n, smoothed_targets)
    td = concrete.TotalDerivative([split], n)
    exp_form = td.gradient()
    sigma_td = td.rewritten(concrete.softmax_substitution(n))
    sigma_form = sigma_td.gradient()
    targets_total = sp.Add(*targets_vector(n))  # in the one factor dL/dS: replaced there once
    summed = sigma_td.with_outer(lambda o: o.xreplace({targets_total: sp.Integer(1)}))
    require(summed.outer == [1 / concrete.S], "the smoothed targets sum to one: dL/dS = 1/S")
    final = summed.gradient()
    lhs = gradient_symbol(n)
    steps = (
        concrete.denominator_step(n),
        Step(lhs=L, rhs=loss, rule=Rule.DEFINITION,
             note="cross-entropy against the smoothed targets q_r = (1 - eps) y_r + eps/K",
             facts=("ce-smoothed-definition", "smoothed-targets-definition")),
        Step(lhs=L, rhs=split, rule=Rule.LOG_RULES,
             note="log sigma_r = z_r - log S; collect log S: sum_r q_r = (1 - eps) sum_r y_r + eps",
             facts=("log-sigma-over-S", "collect-log-S-q", "sum-eps-over-K")),
        Step(lhs=lhs, rhs=exp_form, rule=Rule.DIFFERENTIATE,
             note="differentiate: chain rule through S, dS/dz_c = e^{z_c}", facts=("chain-through-S", "dS-dz")),
        Step(lhs=lhs, rhs=sigma_form, rule=Rule.SUBSTITUTE_SOFTMAX, note="substitute sigma_c = e^{z_c} / S",
             facts=("exp-is-sigma-S",)),
        Step(lhs=lhs, rhs=final, rule=Rule.ASSUMPTION, note="the targets sum to one, so the smoothed targets do too",
             uses=USES_SUM, facts=("targets-sum-to-one", "smoothed-sum-is-one")),
        Step(lhs=lhs, rhs=vector_form(n), rule=Rule.VECTOR_FORM, uses=USES_SUM,
             note="recognise sigma - (1 - eps) y - (eps/K) 1", facts=("is-smoothed",)),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE, SMOOTHING_RANGE),
                      steps=steps, result=final, result_lhs=lhs, semantics=CONCRETE_SEMANTICS,
                      definitions=(*concrete.definitions(n), (L, loss)))
