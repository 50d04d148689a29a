"""The gradient of log-sum-exp is the softmax; both are shift-invariant, which is why code subtracts max z."""
from __future__ import annotations

import mpmath
import sympy as sp

from ..model import Derivation, Rule, Semantics, Step, SymbolRole
from ..symbols import M, c, i, sigma, softmax_denominator, softmax_entry, z
from ..algebra import rewrites
from . import concrete
from .common import INDEX_RANGE_I, Chain, probs_definitions_layer, require
from .roles import PROBS_AND_LOGITS

NAME = "logsumexp-gradient"
TITLE = "The gradient of log-sum-exp, shift invariance and stable evaluation"
DESCRIPTION = "d/dz_i log sum_k e^{z_k} = sigma_i; sigma(z + c) = sigma(z); evaluate with z - max z"

SHIFT = SymbolRole("shift", "c", "a constant added to every logit")
MAXIMUM = SymbolRole("max-logit", "M", "the largest logit, M = max_k z_k")
SYMBOLS = (*PROBS_AND_LOGITS, SHIFT, MAXIMUM)

SEMANTICS = Semantics(
    # c large on purpose: e^{z + c} at c = 700 is far beyond float64, exact in mpmath.
    scalars=lambda rng, arrays: {c: mpmath.mpf(rng.choice([-700, -3, 2, 700]) + rng.uniform(-1, 1)),
                                 M: max(arrays["z"])},
    layers=(probs_definitions_layer(),),
)
MAX_NOTE = ("with c = -M, M = max_k z_k: every exponent z_k - M <= 0, so no e^{...} overflows, and the "
            "largest term is e^0 = 1, so the sum lies in [1, K] and never underflows to 0")


def _shift(expr: sp.Basic, amount: sp.Expr) -> sp.Basic:
    """Every logit z_x -> z_x + amount."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: e + amount)


def _split_exponentials(expr: sp.Basic) -> sp.Basic:
    """e^{a + b} -> e^a e^b, inside sums too."""
    return sp.expand(expr, power_exp=True, mul=False, multinomial=False, log=False)


def _shift_chain(lhs: sp.Expr, to_probs, what: str) -> list[Step]:
    chain = Chain(lhs, _split_exponentials(lhs), "e^{z_k + c} = e^c e^{z_k}", rule=Rule.EXPAND,
                  facts=("exp-split-shift",))
    chain.then(rewrites.pull_constants_out_of_sums, Rule.SHIFT_INVARIANCE,
               f"e^c does not depend on k: it leaves the sum and cancels ({what})",
               facts=("e-c-factored-out", "e-c-cancels"))
    if to_probs is not None:
        chain.then(to_probs, Rule.SUBSTITUTE_SOFTMAX, "the softmax of the unshifted logits",
                   facts=("softmax-unshifted",))
    return chain.steps


def build_symbolic() -> Derivation:
    lhs = sp.Derivative(sp.log(softmax_denominator()), z[i], evaluate=False)
    chain = Chain(lhs, rewrites.evaluate_derivatives(lhs), "differentiate: d log S / d z_i = (dS / dz_i) / S", facts=("d-log-S-i",),
                  rule=Rule.DIFFERENTIATE)
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i,)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= i <= K)", facts=("delta-keeps-k-equal-i",))
    chain.then(lambda e: rewrites.substitute_softmax(e, indices=(i,)), Rule.SUBSTITUTE_SOFTMAX,
               "this is sigma_i: the gradient of log-sum-exp is the softmax", facts=("lse-gradient-is-softmax",))
    gradient = chain.current
    require(gradient == sigma[i], "the gradient is sigma_i")

    shifted_probs = _shift(softmax_entry(i), c)
    probs_shift = _shift_chain(shifted_probs, lambda e: rewrites.substitute_softmax(e, indices=(i,)),
                               "the softmax is shift-invariant")
    require(probs_shift[-1].rhs == sigma[i], "sigma(z + c)_i = sigma_i")
    lse_shift = Chain(sp.log(_shift(softmax_denominator(), c)), _split_exponentials(sp.log(_shift(softmax_denominator(), c))),
                      "e^{z_k + c} = e^c e^{z_k}", rule=Rule.EXPAND, facts=("exp-split-shift",))
    lse_shift.then(rewrites.pull_constants_out_of_sums, Rule.SHIFT_INVARIANCE, "e^c does not depend on k", facts=("e-c-factored-out",))
    lse_shift.then(lambda e: sp.expand_log(e, force=True), Rule.LOG_RULES,
                   "log(e^c S) = c + log S: log-sum-exp moves with the shift (real logits)", facts=("log-product-e-c", "lse-moves-with-shift"))

    stable = Step(lhs=sigma[i], rhs=shifted_probs.xreplace({c: -M}), rule=Rule.STABLE_EVALUATION,
                  note="shift invariance read backwards, " + MAX_NOTE,
                  facts=("stable-softmax-M", "no-overflow"))
    stable_lse = Step(lhs=sp.log(softmax_denominator()), rhs=M + lse_shift.lhs.xreplace({c: -M}),
                      rule=Rule.STABLE_EVALUATION,
                      note="log-sum-exp shifted by c = -M, read backwards: log S = M + log sum_k e^{z_k - M}", facts=("stable-lse-M",))
    require(sp.expand(lse_shift.current.xreplace({c: -M}) + M - sp.log(softmax_denominator())) == 0,
            "M + (log S - M) = log S")
    steps = (*chain.steps, *probs_shift, *lse_shift.steps, stable, stable_lse)
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=(INDEX_RANGE_I,),
                      steps=steps, result=gradient, result_lhs=lhs, semantics=SEMANTICS,
                      results=(("shift-invariance", shifted_probs, probs_shift[-1].rhs),
                               ("stable-softmax", sigma[i], stable.rhs),
                               ("stable-logsumexp", stable_lse.lhs, stable_lse.rhs)))


def gradient_symbol(n: int) -> sp.Derivative:
    return sp.Derivative(sp.log(concrete.S), sp.MatrixSymbol("z", n, 1), evaluate=False)


def _over_shared_sum(numerators: list, total: sp.Expr) -> sp.ImmutableMatrix:
    """The column numerator_r / total with the K-term sum one shared subtree, not K copies."""
    return sp.ImmutableMatrix([[numerator / total] for numerator in numerators])


def build_concrete(n: int) -> Derivation:
    """log S differentiated through S = e^{z_1} + ... + e^{z_K} (engine.concrete), O(1) per entry; the
    shift steps rewrite each numerator and the one shared denominator, which SymPy factors once into
    e^c S. The verifier proves every entry over S (verify.concrete)."""
    lhs = gradient_symbol(n)
    td = concrete.TotalDerivative([sp.log(concrete.S)], n)
    exp_form = td.gradient()
    gradient = td.rewritten(concrete.softmax_substitution(n)).gradient()
    probs = sp.ImmutableMatrix([sigma[r] for r in range(1, n + 1)])
    require(gradient == probs, "the gradient is sigma")

    numerators = [_shift(sp.exp(z[r]), c) for r in range(1, n + 1)]
    total = _shift(concrete.denominator(n), c)
    split_numerators, split_total = [_split_exponentials(e) for e in numerators], _split_exponentials(total)
    factored = sp.factor_terms(split_total).xreplace({concrete.denominator(n): concrete.S})  # e^c S
    require(factored == sp.exp(c) * concrete.S, "the shifted sum is e^c S")
    unshifted = [e / factored for e in split_numerators]  # SymPy cancels e^c
    shifted = _over_shared_sum(numerators, total)
    substitute = concrete.softmax_substitution(n)
    unshifted_probs = sp.ImmutableMatrix([[substitute(e)] for e in unshifted])
    require(unshifted_probs == probs, "sigma(z + c) = sigma")
    stable = _over_shared_sum([e.xreplace({c: -M}) for e in numerators], total.xreplace({c: -M}))
    steps = (
        concrete.denominator_step(n),
        Step(lhs=lhs, rhs=exp_form, rule=Rule.DIFFERENTIATE, note="differentiate: d log S / d z_c = (dS/dz_c) / S",
             facts=("d-log-S-j", "dS-dz")),
        Step(lhs=lhs, rhs=gradient, rule=Rule.SUBSTITUTE_SOFTMAX,
             note="this is sigma: the gradient of log-sum-exp is the softmax", facts=("exp-is-sigma-S", "lse-gradient-is-softmax")),
        Step(lhs=shifted, rhs=_over_shared_sum(split_numerators, split_total), rule=Rule.EXPAND,
             note="e^{z_r + c} = e^c e^{z_r}", facts=("exp-split-shift",)),
        Step(lhs=shifted, rhs=sp.ImmutableMatrix(unshifted), rule=Rule.SHIFT_INVARIANCE,
             note="e^c is a common factor: the sum is e^c S, and e^c cancels",
             facts=("e-c-factored-out", "shifted-sum-e-c-S", "e-c-cancels")),
        Step(lhs=shifted, rhs=unshifted_probs, rule=Rule.SUBSTITUTE_SOFTMAX, note="the softmax of the unshifted logits",
             facts=("softmax-unshifted",)),
        Step(lhs=probs, rhs=stable, rule=Rule.STABLE_EVALUATION, note="shift invariance read backwards, " + MAX_NOTE,
             facts=("stable-softmax-M", "no-overflow")),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS, assumptions=(),
                      steps=steps, result=gradient, result_lhs=lhs, semantics=SEMANTICS,
                      definitions=concrete.definitions(n),
                      results=(("shift-invariance", shifted, unshifted_probs), ("stable-softmax", probs, stable)))
