"""The softmax Jacobian d sigma_i / d z_j = sigma_i (delta_ij - sigma_j), for symbolic and concrete K."""
from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import DiagMatrix

from ..model import Derivation, Rule, Step
from ..symbols import K, i, j, probs_vector, sigma, softmax_entry, z
from ..algebra import rewrites
from . import concrete
from .common import INDEX_RANGE, Chain, matrix_form_matches, require
from .roles import PROBS_AND_LOGITS

NAME = "softmax-jacobian"
TITLE = "The Jacobian of the softmax function"
DESCRIPTION = "d sigma_i / d z_j = sigma_i (delta_ij - sigma_j); matrix form diag(sigma) - sigma sigma^T"


def matrix_form(size) -> sp.MatrixExpr:
    probs = sp.MatrixSymbol("sigma", size, 1)
    return DiagMatrix(probs) - probs * probs.T


def jacobian_symbol(size) -> sp.Derivative:
    return sp.Derivative(sp.MatrixSymbol("sigma", size, 1), sp.MatrixSymbol("z", size, 1), evaluate=False)


def build_symbolic() -> Derivation:
    lhs = sp.Derivative(sigma[i], z[j], evaluate=False)
    chain = Chain(lhs, sp.Derivative(softmax_entry(i), z[j], evaluate=False),
                  "definition of the softmax", facts=("softmax-definition",))
    chain.then(rewrites.quotient_rule, Rule.QUOTIENT_RULE, "quotient rule", facts=("quotient-rule-softmax",))
    chain.then(rewrites.evaluate_derivatives, Rule.DIFFERENTIATE,
               "differentiate: d e^{z_i}/d z_j = delta_ij e^{z_i}, d e^{z_k}/d z_j = delta_jk e^{z_k}", facts=("d-exp-i", "d-exp-k"))
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i, j)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= j <= K)", facts=("delta-keeps-k-equal-j",))
    chain.then(lambda e: rewrites.substitute_softmax(e, indices=(i, j)), Rule.SUBSTITUTE_SOFTMAX,
               "substitute sigma_i and sigma_j", facts=("recognise-sigma-i-j",))
    chain.then(sp.factor, Rule.FACTOR, "factor out sigma_i", facts=("factor-sigma-i",))
    entry = chain.current

    diagonal = Step(lhs=sp.Derivative(sigma[i], z[i], evaluate=False), rhs=entry.subs(j, i),
                    rule=Rule.CASE_EQUAL, note="case i = j: delta_ii = 1", facts=("delta-ii-one",))
    off_diagonal = Step(lhs=lhs, rhs=entry.subs(sp.KroneckerDelta(i, j), 0), rule=Rule.CASE_UNEQUAL,
                        note="case i != j: delta_ij = 0", facts=("delta-ij-zero",), condition=sp.Ne(i, j))
    form = matrix_form(K)
    require(matrix_form_matches(form, sp.expand(entry)), "entry (i, j) of diag(sigma) - sigma sigma^T")
    matrix = Step(lhs=jacobian_symbol(K), rhs=form, rule=Rule.MATRIX_FORM,
                  note="entry (i, j) of diag(sigma) - sigma sigma^T is delta_ij sigma_i - sigma_i sigma_j", facts=("entry-diag-minus-outer",))
    chain.add(diagonal).add(off_diagonal).add(matrix)
    return Derivation(name=NAME, title=TITLE, K=None, symbols=PROBS_AND_LOGITS, assumptions=(INDEX_RANGE,),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs)


def build_concrete(n: int) -> Derivation:
    """Differentiate e^{z_r} / S through S = e^{z_1} + ... + e^{z_K} (engine.concrete): O(1) per entry."""
    td = concrete.TotalDerivative(concrete.softmax_over_S(n), n)
    exp_form = concrete.Structured.from_total_derivative(td)
    sigma_form = exp_form.rewritten(concrete.softmax_substitution(n)).rescaled(concrete.S)
    factored = sigma_form.with_diagonal(rewrites.factor_entry)
    form = matrix_form(n)
    # The verifier proves the matrix-form step for every entry (verify.concrete), so no `require` here.
    lhs = jacobian_symbol(n)
    steps = (
        concrete.denominator_step(n),
        Step(lhs=probs_vector(n), rhs=sp.ImmutableMatrix(concrete.softmax_over_S(n)), rule=Rule.DEFINITION,
             note="definition of the softmax", facts=("softmax-over-S",)),
        Step(lhs=lhs, rhs=exp_form.matrix, rule=Rule.JACOBIAN,
             note="differentiate every entry: chain rule through S, dS/dz_c = e^{z_c}", facts=("chain-through-S", "dS-dz")),
        Step(lhs=lhs, rhs=sigma_form.matrix, rule=Rule.SUBSTITUTE_SOFTMAX,
             note="substitute sigma_r = e^{z_r} / S", facts=("exp-is-sigma-S",)),
        Step(lhs=lhs, rhs=factored.matrix, rule=Rule.FACTOR, note="factor the diagonal", facts=("factor-diagonal",)),
        Step(lhs=lhs, rhs=form, rule=Rule.MATRIX_FORM, note="recognise diag(sigma) - sigma sigma^T", facts=("is-diag-minus-outer",)),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=PROBS_AND_LOGITS, assumptions=(),
                      steps=steps, result=factored.matrix.as_explicit(), result_lhs=lhs,
                      definitions=concrete.definitions(n))
