"""The causally masked softmax: its Jacobian, its VJP, and why a masked logit (M_j = -inf) gets gradient 0.

The mask of query position n is M_k = 0 for k <= n and M_k = -inf for k > n (keys after the query
are hidden), and sigma_k = e^{z_k + M_k} / Sum_l e^{z_l + M_l}. The Jacobian and the VJP keep the
unmasked form, sigma_i (delta_ij - sigma_j) and sigma_i (g_i - Sum_k g_k sigma_k); writing sigma_i
out shows the factor e^{M_i}, and e^{-inf} = 0 makes the whole entry vanish.
"""
from __future__ import annotations

from types import SimpleNamespace

import mpmath
import sympy as sp

from ..model import Assumption, Derivation, Rule, Semantics, Step, SymbolRole
from ..numeric.softmax import stable_softmax
from ..symbols import K, L, m, g, i, j, k, n, sigma, z
from ..algebra import rewrites
from .common import Chain, entrywise, through_softmax_jacobian
from .roles import CLASSES, LOGITS, PROBS
from .softmax_vjp import _upstream, loss_stand_in

NAME = "masked-softmax"
TITLE = "The softmax with a causal mask: Jacobian, VJP and the zero gradient of masked logits"
DESCRIPTION = ("sigma = softmax(z + M), M_k = -inf for k > n: d sigma_i / d z_j = sigma_i (delta_ij - sigma_j), "
               "dL/dz_i = sigma_i (g_i - sum_k g_k sigma_k) = 0 for a masked i")
MAX_CONCRETE_K = 8  # the Jacobian is written out entry by entry (K^2 quotients)

M = sp.IndexedBase("M")  # the additive mask: 0 (kept) or -inf (masked)
SYMBOLS = (PROBS, LOGITS, SymbolRole("mask", "M", "the additive mask: 0 for k <= n, -inf for k > n"),
           SymbolRole("position", "n", "the query position: keys 1..n are visible"),
           SymbolRole("upstream", "g", "upstream gradient dL/dsigma"), SymbolRole("loss", "L", "a scalar loss"),
           CLASSES)
RANGES = Assumption("index-range", sp.And(sp.Le(1, i), sp.Le(i, K), sp.Le(1, j), sp.Le(j, K), sp.Le(1, n),
                                          sp.Le(n, K)))
CAUSAL = Assumption("causal-mask", sp.Eq(M[k], sp.Piecewise((0, sp.Le(k, n)), (-sp.oo, True))))


def masked_entry(index, *, size=K) -> sp.Expr:
    """e^{z_index + M_index} / Sum_k e^{z_k + M_k} (written out for a concrete size)."""
    if isinstance(size, int):
        return sp.exp(z[index] + M[index]) / sp.Add(*[sp.exp(z[c] + M[c]) for c in range(1, size + 1)])
    dummy = m if isinstance(index, sp.Basic) and k in index.free_symbols else k
    return sp.exp(z[index] + M[index]) / sp.Sum(sp.exp(z[dummy] + M[dummy]), (dummy, 1, size))


def _substitute_masked_softmax(expr: sp.Expr, indices: tuple) -> sp.Expr:
    """e^{z_x + M_x} / Sum_k e^{z_k + M_k} -> sigma_x, letting SymPy cancel the sums."""
    # expand writes e^{z + M} as e^{z} e^{M}, in the sum too: substitute that product.
    denominator = sp.expand(sp.Sum(sp.exp(z[k] + M[k]), (k, 1, K)))
    expanded = sp.expand(rewrites.rename_dummies(expr, avoid=set(indices)))
    return sp.expand(sp.cancel(expanded.subs({sp.exp(z[x]) * sp.exp(M[x]): sigma[x] * denominator for x in indices})))


def _explicit_masked_softmax(expr: sp.Expr, size: int) -> sp.Expr:
    """Concrete K: the sum of all e^{z_c + M_c} -> S, each e^{q (z_r + M_r)} -> (sigma_r S)^q, cancel S."""
    total = sp.Symbol("S_total", positive=True)
    exponents = {sp.expand(z[r] + M[r]): r for r in range(1, size + 1)}

    def as_probs(power: sp.exp) -> sp.Expr:
        for exponent, r in exponents.items():
            ratio = sp.cancel(power.args[0] / exponent)
            if ratio.is_Rational:
                return (sigma[r] * total) ** ratio
        return power
    with_total = expr.subs(sp.Add(*[sp.exp(z[c] + M[c]) for c in range(1, size + 1)]), total)
    return sp.factor(sp.cancel(with_total.replace(lambda t: isinstance(t, sp.exp), as_probs)))


def _probs_meaning(size):
    def substitute(expr, _n):
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == sigma,
                            lambda e: masked_entry(e.indices[0], size=size))
    return substitute


def _mask(env):
    """M_k = 0 for k <= n, -inf after: the causal mask of query position n."""
    return [mpmath.mpf(0) if position <= env.scalars[n] else mpmath.ninf for position in range(1, env.K + 1)]


def _masked_probs(env):
    """Softmax over the visible logits (max-shifted), exactly 0 on the masked ones."""
    logits, mask = env.array("z"), env.array("M")
    visible = stable_softmax([v for v, hidden in zip(logits, mask) if hidden == 0])
    return visible + [mpmath.mpf(0)] * (len(logits) - len(visible))


def _random_upstream(rng, logits, sizes):
    return {"g": [mpmath.mpf(rng.uniform(-2, 2)) for _ in logits]}


def _random_position(rng, arrays):
    """A query position for steps that do not name n (below K, so that some key is masked)."""
    return {n: rng.randint(1, max(1, len(arrays["z"]) - 1))}


def _semantics(size) -> Semantics:
    return Semantics(arrays=_random_upstream, scalars=_random_position, derived={"M": _mask, "sigma": _masked_probs},
                     sizes=lambda count: {K: count}, index_ranges={n: K}, derived_reads=(n,),
                     layers=((("sigma",), _probs_meaning(size)),))


def _masked_case(chain: Chain, index, condition, *, size, write_out: str) -> Step:
    """Write sigma_index out: the factor e^{M_index} appears; at M_index = -inf the entry is 0."""
    chain.then(lambda e: e.xreplace({sigma[index]: masked_entry(index, size=size)}),
               Rule.SUBSTITUTE_DEFINITION, "write sigma out: the factor e^{z + M} of the masked entry",
               facts=(write_out,))
    return Step(lhs=chain.lhs, rhs=chain.current.xreplace({M[index]: -sp.oo}), rule=Rule.MASKED_LOGIT,
                note="masked logit: M = -inf and e^{-inf} = 0, every other factor is finite", condition=condition,
                facts=("masked-logit-zero",))


def build_symbolic() -> Derivation:
    jacobian_lhs = sp.Derivative(sigma[i], z[j], evaluate=False)
    jacobian = Chain(jacobian_lhs, sp.Derivative(masked_entry(i), z[j], evaluate=False),
                     "definition of the masked softmax", facts=("masked-softmax-definition",))
    jacobian.then(rewrites.quotient_rule, Rule.QUOTIENT_RULE, "quotient rule", facts=("quotient-rule-masked",))
    jacobian.then(rewrites.evaluate_derivatives, Rule.DIFFERENTIATE, "d e^{z_k + M_k} / d z_j = delta_jk e^{z_k + M_k}",
                  facts=("d-exp-masked",))
    jacobian.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i, j)), Rule.DELTA_SUM,
                  "the Kronecker delta collapses the sum", facts=("delta-keeps-k-equal-j",))
    jacobian.then(lambda e: _substitute_masked_softmax(e, (i, j)), Rule.SUBSTITUTE_SOFTMAX, "substitute sigma_i, sigma_j",
                  facts=("recognise-masked-sigma-i-j",))
    jacobian.then(sp.factor, Rule.FACTOR, "factor out sigma_i", facts=("factor-sigma-i",))
    jacobian_entry = jacobian.current
    masked_column = Step(lhs=jacobian_lhs, rhs=jacobian_entry.xreplace({sigma[j]: masked_entry(j)})
                         .xreplace({M[j]: -sp.oo, sp.KroneckerDelta(i, j): 0}), rule=Rule.MASKED_LOGIT, condition=sp.And(sp.Gt(j, n), sp.Ne(i, j)),
                         note="a masked column: sigma_j = e^{z_j + M_j} / ... = 0 and delta_ij = 0",
                         facts=("masked-column",))

    lhs = sp.Derivative(L, z[i], evaluate=False)
    vjp = Chain(lhs, sp.Sum(sp.Derivative(L, sigma[k], evaluate=False) * sp.Derivative(sigma[k], z[i], evaluate=False),
                            (k, 1, K)), "chain rule through every sigma_k", rule=Rule.CHAIN_RULE,
                facts=("chain-through-every-sigma",))
    vjp.then(_upstream, Rule.UPSTREAM_GRADIENT, "the upstream gradient g_k = dL/dsigma_k", facts=("upstream-g",))
    through_softmax_jacobian(vjp, SimpleNamespace(result_lhs=jacobian_lhs, result=jacobian_entry))
    vjp.then(sp.factor_terms, Rule.FACTOR, "factor out sigma_i", facts=("masked-vjp-unmasked-form",))
    entry = vjp.current
    masked = _masked_case(vjp, i, sp.Gt(i, n), size=K, write_out="write-out-masked-i")
    steps = (*jacobian.steps, masked_column, *vjp.steps, masked)
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=(RANGES, CAUSAL), steps=steps,
                      result=entry, result_lhs=lhs, definitions=((L, loss_stand_in()),), semantics=_semantics(K),
                      results=(("jacobian", jacobian_lhs, jacobian_entry), ("masked", lhs, masked.rhs)))


def build_concrete(size: int) -> Derivation:
    from ..errors import UsageError
    if size > MAX_CONCRETE_K:
        raise UsageError(f"{NAME} takes a concrete K of at most {MAX_CONCRETE_K}, not {size}")
    probs = sp.Matrix([masked_entry(r, size=size) for r in range(1, size + 1)])
    logits = sp.Matrix([z[r] for r in range(1, size + 1)])
    jacobian_lhs = sp.Matrix(size, size, lambda r, c: sp.Derivative(sigma[r + 1], z[c + 1], evaluate=False))
    jacobian = Chain(jacobian_lhs, probs.jacobian(logits), "differentiate every entry (SymPy's jacobian)",
                     rule=Rule.JACOBIAN, facts=("sympy-jacobian",))
    jacobian.then(entrywise(lambda e: _explicit_masked_softmax(e, size)), Rule.SUBSTITUTE_SOFTMAX,
                  "substitute sigma_r = e^{z_r + M_r} / (e^{z_1 + M_1} + ... )", facts=("recognise-masked-written-out",))
    jacobian_entry = jacobian.current
    lhs = sp.Matrix(size, 1, lambda r, _c: sp.Derivative(L, z[r + 1], evaluate=False))
    upstream = sp.Matrix([g[r] for r in range(1, size + 1)])
    vjp = Chain(lhs, jacobian_lhs.T * upstream, "chain rule: the gradient is J^T g", rule=Rule.CHAIN_RULE,
                facts=("vjp-J-transpose-g",))
    vjp.then(lambda e: e.xreplace(dict(zip(jacobian_lhs, jacobian_entry))), Rule.SUBSTITUTE_RESULT,
             "the masked softmax Jacobian derived above", facts=("masked-jacobian-above",))
    vjp.then(entrywise(rewrites.factor_entry), Rule.FACTOR, "factor out sigma_r", facts=("factor-sigma-r",))
    entry = vjp.current
    last = sp.Derivative(L, z[size], evaluate=False)
    masked_chain = Chain(last, entry[size - 1], "the last entry: masked unless n = K", rule=Rule.SUBSTITUTE_RESULT,
                         facts=("last-entry-masked",))
    masked = _masked_case(masked_chain, size, sp.Le(n, size - 1), size=size, write_out="write-out-masked-last")
    steps = (*jacobian.steps, *vjp.steps, *masked_chain.steps, masked)
    return Derivation(name=NAME, title=TITLE, K=size, symbols=SYMBOLS, assumptions=(CAUSAL,), steps=steps,
                      result=entry, result_lhs=lhs, definitions=((L, loss_stand_in(size)),),
                      semantics=_semantics(size),
                      results=(("jacobian", jacobian_lhs, jacobian_entry), ("masked", last, masked.rhs)))
