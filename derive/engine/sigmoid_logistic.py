"""K = 2: the softmax is the logistic sigmoid of u = z_1 - z_2, and binary cross-entropy has gradient sigma(u) - y."""
from __future__ import annotations

import dataclasses

import sympy as sp

from ..errors import UsageError
from ..model import Assumption, Derivation, Rule, Semantics, SymbolRole
from ..symbols import L, explicit_softmax, sigma, softmax_definitions, u, y, z
from .common import Chain, require
from .roles import WITH_TARGETS

NAME = "sigmoid-logistic-gradient"
TITLE = "Two classes: the softmax is the logistic sigmoid; the binary cross-entropy gradient"
DESCRIPTION = "K = 2: sigma_1 = 1 / (1 + e^{-u}), u = z_1 - z_2; d/du binary cross-entropy = sigma(u) - y"

FIXED_K = 2  # the registry's Entry.fixed_K: no other concrete K exists

SYMBOLS = (*WITH_TARGETS, SymbolRole("binary-logit", "u", "u = z_1 - z_2, the logit of class 1 against class 2"))
TWO_CLASSES = Assumption("two-classes", sp.Eq(sp.Symbol("K", integer=True, positive=True), 2))
TARGET_RANGE = Assumption("target-range", sp.And(sp.Le(0, y[1]), sp.Le(y[1], 1)))

SEMANTICS = Semantics(
    scalars=lambda rng, arrays: {u: arrays["z"][0] - arrays["z"][1]}, Ks=(2,),
    # Proofs: derivatives in u first, then u = z_1 - z_2 and sigma written out for K = 2 (always 2 here).
    layers=((("u",), lambda expr, n: expr.xreplace({u: z[1] - z[2]})),
            (("sigma",), lambda expr, n: softmax_definitions(expr, n=2))),
)


def logistic(value: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-value))


def binary_cross_entropy() -> sp.Expr:
    """-y log s - (1 - y) log(1 - s) with s = 1/(1 + e^{-u}): the cross-entropy for K = 2, y = y_1."""
    s = logistic(u)
    return -y[1] * sp.log(s) - (1 - y[1]) * sp.log(1 - s)


def build_symbolic() -> Derivation:
    link = Chain(sigma[1], explicit_softmax(2)[0], "the softmax for K = 2", facts=("softmax-two-classes",), rule=Rule.DEFINITION)
    link.then(lambda e: 1 / sp.powsimp(sp.expand(1 / e)), Rule.SIGMOID_LINK,
              "divide numerator and denominator by e^{z_1}", facts=("divide-by-exp-z1",))
    link.then(lambda e: e.xreplace({z[1]: u + z[2]}), Rule.SIGMOID_LINK,
              "only u = z_1 - z_2 matters: the logistic sigmoid of u", facts=("only-u-matters",))
    require(link.current == logistic(u), "sigma_1 = 1 / (1 + e^{-u})")

    lhs = sp.Derivative(L, u, evaluate=False)
    gradient = Chain(lhs, sp.Derivative(binary_cross_entropy(), u, evaluate=False),
                     "binary cross-entropy L = -y_1 log s - (1 - y_1) log(1 - s), s = 1/(1 + e^{-u})", facts=("bce-definition",))
    gradient.then(lambda e: e.doit(), Rule.DIFFERENTIATE, "differentiate (SymPy)", facts=("sympy-derivative-u",))
    # One step, substitution then cancel: the uncancelled nested fractions cost SymPy's prover ~10 s.
    gradient.then(lambda e: sp.factor(sp.cancel(e.subs(sp.exp(-u), (1 - sigma[1]) / sigma[1]))),
                  Rule.SUBSTITUTE_SOFTMAX,
                  "e^{-u} = (1 - sigma_1) / sigma_1, from sigma_1 = 1 / (1 + e^{-u}); cancel", facts=("exp-minus-u-from-sigma",))
    result = gradient.current
    require(sp.expand(result - (sigma[1] - y[1])) == 0, "dL/du = sigma(u) - y")
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=(TWO_CLASSES, TARGET_RANGE),
                      steps=(*link.steps, *gradient.steps), result=result, result_lhs=lhs,
                      definitions=((L, binary_cross_entropy()),), semantics=SEMANTICS,
                      results=(("sigmoid-link", sigma[1], link.current),))


def build_concrete(n: int) -> Derivation:
    """Only K = 2 has a sigmoid form; the steps are those of the symbolic build, at K = 2."""
    if n != 2:
        raise UsageError(f"{NAME} is the two-class case: K must be 2, not {n}")
    return dataclasses.replace(build_symbolic(), K=2)
