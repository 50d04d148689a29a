"""Backward through softmax alone: dL/dz_i = sigma_i (g_i - Sum_k g_k sigma_k) for g = dL/dsigma."""
from __future__ import annotations

import mpmath
import sympy as sp

from ..model import Derivation, Rule, Semantics, Step
from ..symbols import K, L, g, i, k, m, sigma, z
from ..algebra import rewrites
from . import softmax_jacobian
from .common import INDEX_RANGE_I, Chain, entrywise, explicit_matches, explicit_sizes_match, require, through_softmax_jacobian
from .common import probs_definitions_layer
from .roles import CLASSES, LOGITS, PROBS
from ..model import SymbolRole

NAME = "softmax-vjp"
TITLE = "Backpropagation through the softmax (vector-Jacobian product)"
DESCRIPTION = "dL/dz_i = sigma_i (g_i - sum_k g_k sigma_k) for g = dL/dsigma; vector form sigma * (g - <g, sigma>)"
# Derived and verified entry by entry (generic verifier): seconds up to these sizes, minutes above
# (bench/README.md); engine.build refuses larger ones (SizeLimitError).
FAST_SIZES = {"K": 16}

UPSTREAM = SymbolRole("upstream", "g", "upstream gradient dL/dsigma")
LOSS = SymbolRole("loss", "L", "a scalar loss computed from sigma")
SYMBOLS = (PROBS, LOGITS, UPSTREAM, LOSS, CLASSES)


def loss_stand_in(size=K) -> sp.Expr:
    """For checking only: L = Sum_m g_m sigma_m has dL/dsigma_m = g_m for a fixed g, so any loss
    with upstream gradient g has the same dL/dz (the chain rule sees only g)."""
    if isinstance(size, int):
        return sp.Add(*[g[r] * sigma[r] for r in range(1, size + 1)])
    return sp.Sum(g[m] * sigma[m], (m, 1, size))


def _random_upstream(rng, logits, sizes):
    return {"g": [mpmath.mpf(rng.uniform(-2, 2)) for _ in logits]}


SEMANTICS = Semantics(arrays=_random_upstream, layers=(probs_definitions_layer(),))


def vector_form(size) -> sp.MatrixExpr:
    probs, upstream = sp.MatrixSymbol("sigma", size, 1), sp.MatrixSymbol("g", size, 1)
    return sp.HadamardProduct(probs, upstream - sp.OneMatrix(size, 1) * (upstream.T * probs))


def gradient_symbol(size) -> sp.Derivative:
    return sp.Derivative(L, sp.MatrixSymbol("z", size, 1), evaluate=False)


def _upstream(expr: sp.Basic) -> sp.Basic:
    """dL/dsigma_x -> g_x: the upstream gradient is given, whatever L is."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr == L and e.variables[0].base == sigma,
                        lambda e: g[e.variables[0].indices[0]])


def build_symbolic() -> Derivation:
    jacobian = softmax_jacobian.build_symbolic()  # its result is substituted, not retyped
    lhs = sp.Derivative(L, z[i], evaluate=False)
    chain_rule = sp.Sum(sp.Derivative(L, sigma[k], evaluate=False) * sp.Derivative(sigma[k], z[i], evaluate=False),
                        (k, 1, K))
    chain = Chain(lhs, chain_rule, "chain rule: L depends on z_i through every sigma_k", facts=("chain-through-every-sigma",), rule=Rule.CHAIN_RULE)
    chain.then(_upstream, Rule.UPSTREAM_GRADIENT, "the upstream gradient g_k = dL/dsigma_k", facts=("upstream-g",))
    through_softmax_jacobian(chain, jacobian)
    chain.then(sp.factor_terms, Rule.FACTOR, "factor out sigma_i", facts=("factor-sigma-i",))
    entry = chain.current
    require(explicit_sizes_match(vector_form, entry, row=i), "entry i of sigma * (g - <g, sigma> 1)")
    chain.add(Step(lhs=gradient_symbol(K), rhs=vector_form(K), rule=Rule.VECTOR_FORM,
                   note="entry i of sigma * (g - (g^T sigma) 1) is sigma_i (g_i - sum_k g_k sigma_k): "
                        "O(K) work, the K x K Jacobian is never formed", facts=("entry-vjp", "jacobian-never-formed")))
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=(INDEX_RANGE_I,),
                      steps=tuple(chain.steps), result=entry, result_lhs=lhs,
                      definitions=((L, loss_stand_in()),), semantics=SEMANTICS)


def build_concrete(n: int) -> Derivation:
    jacobian = softmax_jacobian.build_concrete(n)
    lhs = sp.Matrix(n, 1, lambda r, _c: sp.Derivative(L, z[r + 1], evaluate=False))
    symbols_J = sp.Matrix(n, n, lambda r, c: sp.Derivative(sigma[r + 1], z[c + 1], evaluate=False))
    upstream = sp.Matrix([g[r] for r in range(1, n + 1)])
    chain = Chain(lhs, symbols_J.T * upstream, "chain rule: the gradient is J^T g, J the softmax Jacobian", facts=("vjp-J-transpose-g",),
                  rule=Rule.CHAIN_RULE)
    known = dict(zip(symbols_J, jacobian.result))
    chain.then(lambda e: e.xreplace(known), Rule.SUBSTITUTE_RESULT,
               "the softmax Jacobian: d sigma_r / d z_c = sigma_r (delta_rc - sigma_c)", facts=("softmax-jacobian-rc",))
    chain.then(entrywise(rewrites.factor_common), Rule.FACTOR, "factor out sigma_r", facts=("factor-sigma-r",))
    explicit = chain.current
    require(explicit_matches(vector_form(n), explicit), "the vector equals sigma * (g - <g, sigma> 1)")
    chain.add(Step(lhs=lhs, rhs=vector_form(n), rule=Rule.VECTOR_FORM, note="recognise sigma * (g - (g^T sigma) 1)", facts=("is-vjp",)))
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS, assumptions=(),
                      steps=tuple(chain.steps), result=explicit, result_lhs=lhs,
                      definitions=((L, loss_stand_in(n)),), semantics=SEMANTICS)
