"""The log-softmax Jacobian d log sigma_i / d z_j = delta_ij - sigma_j, for symbolic and concrete K."""
from __future__ import annotations

import sympy as sp

from ..model import Derivation, Rule, Step
from ..symbols import K, i, j, sigma, softmax_entry, z
from ..algebra import rewrites
from . import concrete
from .common import INDEX_RANGE, Chain, matrix_form_matches, require
from .roles import PROBS_AND_LOGITS

NAME = "log-softmax-jacobian"
TITLE = "The Jacobian of the log-softmax function"
DESCRIPTION = "d log sigma_i / d z_j = delta_ij - sigma_j; matrix form I - 1 sigma^T"


def _expand_log(expr: sp.Basic) -> sp.Basic:
    """log(e^{z_i} / S) -> z_i - log S; `force` is sound because logits are real."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative),
                        lambda d: sp.Derivative(sp.expand_log(d.expr, force=True), *d.variable_count,
                                                evaluate=False))


def matrix_form(size) -> sp.MatrixExpr:
    return sp.Identity(size) - sp.OneMatrix(size, 1) * sp.MatrixSymbol("sigma", size, 1).T


def build_symbolic() -> Derivation:
    lhs = sp.Derivative(sp.log(sigma[i]), z[j], evaluate=False)
    chain = Chain(lhs, sp.Derivative(sp.log(softmax_entry(i)), z[j], evaluate=False),
                  "definition of the softmax", facts=("softmax-definition",))
    chain.then(_expand_log, Rule.LOG_RULES, "log of a quotient; log e^{z_i} = z_i", facts=("log-quotient", "log-exp"))
    chain.then(rewrites.evaluate_derivatives, Rule.DIFFERENTIATE,
               "differentiate: d z_i / d z_j = delta_ij; d log S / d z_j = (dS/dz_j) / S", facts=("d-z-delta", "d-log-S-j"))
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i, j)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= j <= K)", facts=("delta-keeps-k-equal-j",))
    chain.then(lambda e: rewrites.substitute_softmax(e, indices=(i, j)), Rule.SUBSTITUTE_SOFTMAX,
               "substitute sigma_j", facts=("recognise-sigma-j",))
    entry = chain.current
    chain.add(Step(lhs=sp.Derivative(sp.log(sigma[i]), z[i], evaluate=False), rhs=entry.subs(j, i),
                   rule=Rule.CASE_EQUAL, note="case i = j: delta_ii = 1", facts=("delta-ii-one",)))
    chain.add(Step(lhs=lhs, rhs=entry.subs(sp.KroneckerDelta(i, j), 0), rule=Rule.CASE_UNEQUAL,
                   note="case i != j: delta_ij = 0", facts=("delta-ij-zero",), condition=sp.Ne(i, j)))
    form = matrix_form(K)
    require(matrix_form_matches(form, entry), "entry (i, j) of I - 1 sigma^T")
    chain.add(Step(lhs=_jacobian_symbol(K), rhs=form, rule=Rule.MATRIX_FORM,
                   note="entry (i, j) of I - 1 sigma^T is delta_ij - sigma_j", facts=("entry-identity-minus-ones-sigma",)))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=PROBS_AND_LOGITS, assumptions=(INDEX_RANGE,),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs)


def _jacobian_symbol(size):
    from sympy.matrices.expressions import MatrixSymbol
    return sp.Derivative(sp.log(MatrixSymbol("sigma", size, 1)), MatrixSymbol("z", size, 1), evaluate=False)


def build_concrete(n: int) -> Derivation:
    """log(e^{z_r} / S) = z_r - log S, differentiated through S (engine.concrete): O(1) per entry."""
    functions = [sp.expand_log(sp.log(f), force=True) for f in concrete.softmax_over_S(n)]  # logits are real
    td = concrete.TotalDerivative(functions, n)
    exp_form = concrete.Structured.from_total_derivative(td)
    sigma_form = exp_form.rewritten(concrete.softmax_substitution(n))
    form = matrix_form(n)
    # The verifier proves the matrix-form step for every entry (verify.concrete), so no `require` here.
    lhs = _jacobian_symbol(n)
    steps = (
        concrete.denominator_step(n),
        Step(lhs=sp.log(sp.MatrixSymbol("sigma", n, 1)), rhs=sp.ImmutableMatrix(functions), rule=Rule.LOG_RULES,
             note="log sigma_r = log(e^{z_r} / S) = z_r - log S", facts=("log-sigma-over-S",)),
        Step(lhs=lhs, rhs=exp_form.matrix, rule=Rule.JACOBIAN,
             note="differentiate every entry: chain rule through S, dS/dz_c = e^{z_c}", facts=("chain-through-S", "dS-dz")),
        Step(lhs=lhs, rhs=sigma_form.matrix, rule=Rule.SUBSTITUTE_SOFTMAX,
             note="substitute sigma_c = e^{z_c} / S", facts=("exp-is-sigma-S",)),
        Step(lhs=lhs, rhs=form, rule=Rule.MATRIX_FORM, note="recognise I - 1 sigma^T", facts=("is-identity-minus-ones-sigma",)),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=PROBS_AND_LOGITS, assumptions=(),
                      steps=steps, result=sigma_form.matrix.as_explicit(), result_lhs=lhs,
                      definitions=concrete.definitions(n))
