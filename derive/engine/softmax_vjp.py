"""Backward through softmax alone: dL/dz_i = sigma_i (g_i - Sum_k g_k sigma_k) for g = dL/dsigma."""
from __future__ import annotations

import mpmath
import sympy as sp

from ..model import Derivation, Rule, Semantics, Step
from ..symbols import K, L, g, i, k, m, sigma, z
from . import concrete, softmax_jacobian
from .common import INDEX_RANGE_I, Chain, explicit_sizes_match, require, through_softmax_jacobian
from .common import probs_definitions_layer
from .roles import CLASSES, LOGITS, PROBS
from ..model import SymbolRole

NAME = "softmax-vjp"
TITLE = "Backpropagation through the softmax (vector-Jacobian product)"
DESCRIPTION = "dL/dz_i = sigma_i (g_i - sum_k g_k sigma_k) for g = dL/dsigma; vector form sigma * (g - <g, sigma>)"

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


def shared_sum_entry(prob, upstream, negated_total) -> sp.Expr:
    """sigma_c (g_c - (g_1 sigma_1 + ... + g_K sigma_K)) with the sum kept one shared subtree:
    SymPy would distribute the minus and copy all K terms into every entry (K^2 terms, 2 s at K = 512)."""
    return sp.Mul(prob, sp.Add(upstream, negated_total, evaluate=False), evaluate=False)


def build_concrete(n: int) -> Derivation:
    """Entry c of J^T g is sum_r g_r sigma_r (delta_rc - sigma_c) = g_c sigma_c - sigma_c (g^T sigma):
    built with the inner product g^T sigma once (a shared subtree), O(K) work and terms; the
    verifier proves every entry over S (verify.concrete), the inner product as one symbol."""
    total = sp.Add(*[g[r] * sigma[r] for r in range(1, n + 1)])
    negated = sp.Mul(-1, total, evaluate=False)
    lhs = gradient_symbol(n)
    chained = sp.ImmutableMatrix([[g[c] * sigma[c] - sigma[c] * total] for c in range(1, n + 1)])
    factored = sp.ImmutableMatrix([[shared_sum_entry(sigma[c], g[c], negated)] for c in range(1, n + 1)])
    steps = (
        Step(lhs=lhs, rhs=chained, rule=Rule.CHAIN_RULE,
             note="chain rule: the gradient is J^T g; entry c is sum_r g_r sigma_r (delta_rc - sigma_c)",
             facts=("vjp-J-transpose-g", "softmax-jacobian-rc")),
        Step(lhs=lhs, rhs=factored, rule=Rule.FACTOR, note="factor out sigma_c", facts=("factor-sigma-r",)),
        Step(lhs=lhs, rhs=vector_form(n), rule=Rule.VECTOR_FORM, note="recognise sigma * (g - (g^T sigma) 1)",
             facts=("is-vjp",)),
    )
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS, assumptions=(),
                      steps=steps, result=factored, result_lhs=lhs,
                      definitions=(*concrete.definitions(n), (L, loss_stand_in(n))), semantics=SEMANTICS)
