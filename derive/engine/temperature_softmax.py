"""The Jacobian of the softmax at temperature T: d sigma_i / d z_j = (1/T) sigma_i (delta_ij - sigma_j)."""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.matrices.expressions import DiagMatrix

from ..model import Derivation, Rule, Semantics, Step, SymbolRole
from ..numeric.softmax import stable_softmax
from ..symbols import K, T, explicit_scaled_softmax, i, j, probs_vector, scaled_softmax_entry, sigma, z
from ..algebra import rewrites
from . import concrete
from .common import INDEX_RANGE, Chain, explicit_sizes_match, require
from .roles import PROBS_AND_LOGITS

NAME = "temperature-softmax-jacobian"
TITLE = "The Jacobian of the softmax with temperature"
DESCRIPTION = "sigma = softmax(z / T): d sigma_i / d z_j = (1/T) sigma_i (delta_ij - sigma_j)"

TEMPERATURE = SymbolRole("temperature", "T", "temperature T > 0")
SYMBOLS = (*PROBS_AND_LOGITS, TEMPERATURE)
TEMPERATURE_POSITIVE = sp.Gt(T, 0)


def _probs_at_temperature(expr, n):
    """sigma_x -> e^{z_x/T} / Sum_k e^{z_k/T} (proofs), written out for a concrete K."""
    explicit = explicit_scaled_softmax(n, 1 / T) if n is not None else None
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == sigma,
                        lambda e: scaled_softmax_entry(e.indices[0], 1 / T) if explicit is None
                        else explicit[int(e.indices[0]) - 1])


SEMANTICS = Semantics(
    # T from 0.25 (sharp) to 4 (flat); with |z| ~ 1000, z / T reaches 4000: still exact in mpmath.
    scalars=lambda rng, arrays: {T: mpmath.mpf(rng.choice([0.25, 0.5, 2.0, 4.0])) * mpmath.mpf(rng.uniform(0.9, 1.1))},
    derived={"sigma": lambda env: stable_softmax([v / env.scalars[T] for v in env.array("z")])},
    layers=((("sigma",), _probs_at_temperature),),
)


def matrix_form(size) -> sp.MatrixExpr:
    probs = sp.MatrixSymbol("sigma", size, 1)
    return (1 / T) * (DiagMatrix(probs) - probs * probs.T)


def jacobian_symbol(size) -> sp.Derivative:
    return sp.Derivative(sp.MatrixSymbol("sigma", size, 1), sp.MatrixSymbol("z", size, 1), evaluate=False)


def _assumptions():
    from ..model import Assumption
    return (INDEX_RANGE, Assumption("temperature-positive", TEMPERATURE_POSITIVE))


def build_symbolic() -> Derivation:
    lhs = sp.Derivative(sigma[i], z[j], evaluate=False)
    chain = Chain(lhs, sp.Derivative(scaled_softmax_entry(i, 1 / T), z[j], evaluate=False),
                  "definition of the softmax at temperature T: sigma_i = e^{z_i/T} / sum_k e^{z_k/T}", facts=("softmax-T-definition",))
    chain.then(rewrites.quotient_rule, Rule.QUOTIENT_RULE, "quotient rule", facts=("quotient-rule-softmax-T",))
    chain.then(rewrites.evaluate_derivatives, Rule.DIFFERENTIATE,
               "differentiate: d e^{z_k/T} / d z_j = (1/T) delta_jk e^{z_k/T} (chain rule through z_k/T)", facts=("d-exp-over-T",))
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i, j)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= j <= K)", facts=("delta-keeps-k-equal-j",))
    chain.then(lambda e: rewrites.substitute_softmax(e, indices=(i, j), scale=1 / T),
               Rule.SUBSTITUTE_SOFTMAX, "substitute sigma_i and sigma_j", facts=("recognise-sigma-i-j-T",))
    chain.then(sp.factor, Rule.FACTOR, "factor out sigma_i / T", facts=("factor-sigma-i-over-T",))
    entry = chain.current
    chain.add(Step(lhs=sp.Derivative(sigma[i], z[i], evaluate=False), rhs=entry.subs(j, i),
                   rule=Rule.CASE_EQUAL, note="case i = j: delta_ii = 1", facts=("delta-ii-one",)))
    chain.add(Step(lhs=lhs, rhs=entry.subs(sp.KroneckerDelta(i, j), 0), rule=Rule.CASE_UNEQUAL,
                   note="case i != j: delta_ij = 0", facts=("delta-ij-zero",), condition=sp.Ne(i, j)))
    require(explicit_sizes_match(matrix_form, entry, row=i, col=j), "entry (i, j) of (1/T)(diag(sigma) - sigma sigma^T)")
    chain.add(Step(lhs=jacobian_symbol(K), rhs=matrix_form(K), rule=Rule.MATRIX_FORM,
                   note="(1/T)(diag(sigma) - sigma sigma^T): a higher T flattens sigma and shrinks the gradient", facts=("entry-T-jacobian", "temperature-flattens")))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=_assumptions(),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs, semantics=SEMANTICS)


def build_concrete(n: int) -> Derivation:
    """The softmax Jacobian's construction (engine.concrete) with z / T: e^{z_r/T} / S through
    S = e^{z_1/T} + ... + e^{z_K/T}, O(1) per entry; the verifier proves every entry (verify.concrete)."""
    scale = 1 / T
    td = concrete.TotalDerivative(concrete.softmax_over_S(n, scale), n, scale=scale)
    exp_form = concrete.Structured.from_total_derivative(td)
    sigma_form = exp_form.rewritten(concrete.softmax_substitution(n, scale)).rescaled(concrete.S)
    factored = sigma_form.with_diagonal(rewrites.factor_entry)
    lhs = jacobian_symbol(n)
    steps = (
        concrete.denominator_step(n, scale, facts=("denominator-S-T",)),
        Step(lhs=probs_vector(n), rhs=sp.ImmutableMatrix(concrete.softmax_over_S(n, scale)), rule=Rule.DEFINITION,
             note="definition of the softmax at temperature T", facts=("softmax-T-over-S",)),
        Step(lhs=lhs, rhs=exp_form.matrix, rule=Rule.JACOBIAN,
             note="differentiate every entry: chain rule through S, dS/dz_c = (1/T) e^{z_c/T}",
             facts=("chain-through-S", "dS-dz-T")),
        Step(lhs=lhs, rhs=sigma_form.matrix, rule=Rule.SUBSTITUTE_SOFTMAX,
             note="substitute sigma_r = e^{z_r/T} / S", facts=("exp-T-is-sigma-S",)),
        Step(lhs=lhs, rhs=factored.matrix, rule=Rule.FACTOR, note="factor the diagonal", facts=("factor-diagonal-T",)),
        Step(lhs=lhs, rhs=matrix_form(n), rule=Rule.MATRIX_FORM,
             note="recognise (1/T)(diag(sigma) - sigma sigma^T)", facts=("is-T-jacobian",)),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS, assumptions=_assumptions()[1:],
                      steps=steps, result=factored.matrix.as_explicit(), result_lhs=lhs, semantics=SEMANTICS,
                      definitions=concrete.definitions(n, scale))
