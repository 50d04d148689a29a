"""A linear layer under softmax cross-entropy, z = W x + b: dL/dW = (sigma - y) x^T, dL/db = sigma - y,
dL/dx = W^T (sigma - y). The main result is the entry dL/dW_id (the K x D matrix for concrete sizes)."""
from __future__ import annotations

import dataclasses

import mpmath
import sympy as sp

from ..model import Assumption, Derivation, Rule, Semantics, Step, SymbolRole
from ..numeric.softmax import stable_log_softmax, stable_softmax
from ..symbols import D, K, L, W, b, d, i, k, sigma, x, y, z
from ..algebra import rewrites
from . import concrete, cross_entropy
from .common import (TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, matrix_entries_to_indexed,
                     probs_definitions_layer, require)
from .roles import WITH_TARGETS

NAME = "linear-softmax-cross-entropy"
TITLE = "Backpropagation through a linear layer, softmax and cross-entropy"
DESCRIPTION = "z = W x + b: dL/dW = (sigma - y) x^T, dL/db = sigma - y, dL/dx = W^T (sigma - y)"
SIZES = ("K", "D")
# Proved entry by entry over S (verify.concrete) at every K up to 512 (3.9 CPU s at K = 512, D = 3,
# within 3x the Jacobian; bench/README.md). The work grows with K D (dL/dW has K D entries, dL/dx D
# sums of K terms): K = 512, D = 8 takes 7.7 s, so larger D is refused (SizeLimitError).
FAST_SIZES = {"D": 8}

SYMBOLS = (*WITH_TARGETS,
           SymbolRole("weights", "W", "weights W[k, d], a K x D matrix"),
           SymbolRole("bias", "b", "bias, length K"),
           SymbolRole("input", "x", "input, length D"),
           SymbolRole("features", "D", "input dimension"))
USES_SUM = (TARGETS_SUM_TO_ONE.id,)
RANGES = Assumption("index-range", sp.And(sp.Le(1, i), sp.Le(i, K), sp.Le(1, d), sp.Le(d, D)))
SHAPES = (("x", "D x 1"), ("W", "K x D"), ("b", "K x 1"), ("z", "K x 1"), ("sigma", "K x 1"), ("y", "K x 1"),
          ("dL/dW", "K x D"), ("dL/db", "K x 1"), ("dL/dx", "D x 1"))
_r = sp.Symbol("r", integer=True, positive=True)  # feature dummy (not m: the softmax's own dummy)


def logit(index, size=D) -> sp.Expr:
    """z_index = Sum_r W_{index, r} x_r + b_index (written out for a concrete D)."""
    if isinstance(size, int):
        return sp.Add(*[W[index, c] * x[c] for c in range(1, size + 1)]) + b[index]
    return sp.Sum(W[index, _r] * x[_r], (_r, 1, size)) + b[index]


def _logits_meaning(size):
    def substitute(expr, n):
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: logit(e.indices[0], size))
    return substitute


def _refold_logits(feature_count: int | None):
    """Once differentiated, trade b for z: b_r = z_r - W_r x is a change of variables (invertible
    for fixed W, x), so an identity in (W, x, z, y) is the same identity in (W, x, b, y), and
    exp(2 W_r x + 2 b_r) becomes exp(2 z_r): cancel works on K exponentials, not K (D + 1)."""
    if feature_count is None:
        return None

    def refold(expr, n):
        return expr.xreplace({b[r]: z[r] - (logit(r, feature_count) - b[r]) for r in range(1, n + 1)})
    return refold


_ROWS: dict = {}  # (precision, x, W_r, b_r) -> z_r: a pure function of exact values, so memoised
_ROWS_SIZE = 1 << 14


class _RowsOnDemand(list):
    """z = W x + b at a test point, each row computed when first read and then kept.

    A numeric dz_k/dx_c moves x and reads z_k alone: K such derivatives in one entry of dL/dx
    would otherwise recompute all K rows each (K^2 D work per entry). A list, so every reader of
    a vector takes it; the readers go through __getitem__ and __iter__, which fill the rows in."""

    def __init__(self, size: int, row):
        super().__init__([None] * size)
        self._row = row
        self._complete = False  # every row filled in: iterate as a plain list

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[r] for r in range(*position.indices(len(self)))]
        value = super().__getitem__(position)
        if value is None:
            value = self._row(position % len(self))
            super().__setitem__(position, value)
        return value

    def __iter__(self):
        if not self._complete:
            for r in range(len(self)):
                self[r]
            self._complete = True
        return super().__iter__()


def _semantics(feature_count: int | None) -> Semantics:
    def sizes(n):
        return {D: feature_count if feature_count is not None else (2 if n <= 3 else 3)}

    def arrays(rng, logits, sized):
        n, features = len(logits), sized[D]
        weights = mpmath.matrix([[mpmath.mpf(rng.uniform(-1, 1)) for _ in range(features)] for _ in range(n)])
        inputs = [mpmath.mpf(rng.uniform(-2, 2)) for _ in range(features)]
        # b = z - W x keeps this point's logits, extreme ones included.
        bias = [logits[r] - mpmath.fsum(weights[r, c] * inputs[c] for c in range(features)) for r in range(n)]
        return {"W": weights, "x": inputs, "b": bias}

    def affine(env):
        weights, inputs, bias = env.array("W"), env.array("x"), env.array("b")
        features = range(len(inputs))
        point = (*mpmath.mp._prec_rounding, *(v._mpf_ for v in inputs))

        def row(r):
            # A numeric dL/dW_rc moves one entry, so K - 1 rows recur from the evaluation before:
            # keyed by the exact values it is computed from (and the precision), as _exp is.
            key = (point, *(weights[r, c]._mpf_ for c in features), bias[r]._mpf_)
            value = _ROWS.get(key)
            if value is None:
                if len(_ROWS) >= _ROWS_SIZE:
                    _ROWS.clear()
                value = _ROWS[key] = mpmath.fdot([weights[r, c] for c in features], inputs) + bias[r]
            return value
        return _RowsOnDemand(len(bias), row)

    return Semantics(arrays=arrays, sizes=sizes, index_ranges={d: D},
                     # log sigma straight from z (one log, not K, for each value of the loss)
                     derived={"z": affine, "sigma": lambda env: stable_softmax(env.array("z")),
                              "log_sigma": lambda env: stable_log_softmax(env.array("z"))},
                     layers=(probs_definitions_layer(), (("z",), _logits_meaning(feature_count or D))),
                     refold=_refold_logits(feature_count))


def _loss_gradient(expr: sp.Basic, gradient_entry: sp.Expr, index: sp.Symbol) -> sp.Basic:
    """dL/dz_w -> sigma_w - y_w, the cross-entropy gradient (substituted, not retyped)."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr == L and e.variables[0].base == z,
                        lambda e: gradient_entry.xreplace({index: e.variables[0].indices[0]}))


def _through_logits(variable, summed, feature_size, gradient_entry, index):
    """dL/dvariable: chain rule through every z_k, then SymPy differentiates z_k = Sum W x + b."""
    lhs = sp.Derivative(L, variable, evaluate=False)
    chain_rule = summed(lambda kk: sp.Derivative(L, z[kk], evaluate=False) * sp.Derivative(z[kk], variable,
                                                                                           evaluate=False))
    name = variable.base.name  # W, b or x: the facts name the variable the block differentiates by
    chain = Chain(lhs, chain_rule, "chain rule: L depends on the variable through every z_k", rule=Rule.CHAIN_RULE,
                  facts=(f"chain-through-logits-{name}",))
    chain.then(lambda e: _loss_gradient(e, gradient_entry, index), Rule.SUBSTITUTE_RESULT,
               "the cross-entropy gradient dL/dz_k = sigma_k - y_k", uses=USES_SUM, facts=("ce-gradient-k",))
    chain.then(lambda e: e.replace(lambda t: isinstance(t, sp.Derivative) and t.expr.is_Indexed and t.expr.base == z,
                                   lambda t: sp.Derivative(logit(t.expr.indices[0], feature_size), *t.variable_count,
                                                           evaluate=False)),
               Rule.SUBSTITUTE_LOGITS, "z_k = sum_d W_kd x_d + b_k", uses=USES_SUM, facts=("linear-logits",))
    chain.then(lambda e: rewrites.evaluate_derivatives_of(e, keep=L), Rule.DIFFERENTIATE,
               "differentiate the affine map: dW_km/dW_id = delta_ik delta_dm, db_k/db_i = delta_ik, dx_m/dx_d = delta_dm",
               uses=USES_SUM, facts=(f"d-affine-{name}",))
    return chain


def _finish(chain, ranges):
    name = chain.lhs.variables[0].base.name
    chain.then(lambda e: rewrites.collapse_delta_sums(e, ranges=ranges), Rule.DELTA_SUM,
               "the Kronecker deltas collapse the sums", uses=USES_SUM, facts=(f"delta-collapse-{name}",))
    if sp.factor_terms(chain.current) != chain.current:
        chain.then(sp.factor_terms, Rule.FACTOR, "factor", uses=USES_SUM, facts=(f"factor-{name}",))
    return chain


def _forms(size_K, size_D):
    probs, targets = sp.MatrixSymbol("sigma", size_K, 1), sp.MatrixSymbol("y", size_K, 1)
    inputs, weights = sp.MatrixSymbol("x", size_D, 1), sp.MatrixSymbol("W", size_K, size_D)
    error = probs - targets
    return {"W": error * inputs.T, "b": error, "x": weights.T * error}


def _gradient_symbols(size_K, size_D):
    return {name: sp.Derivative(L, sp.MatrixSymbol(name, *shape), evaluate=False)
            for name, shape in (("W", (size_K, size_D)), ("b", (size_K, 1)), ("x", (size_D, 1)))}


def _matches(form, entry_of, nK, nD) -> bool:
    """SymPy writes the form out at sizes nK x nD; entry (r, c) must equal entry_of(r, c) there."""
    made = matrix_entries_to_indexed(sp.Matrix(form.as_explicit()))
    return all(sp.expand(made[r, c] - entry_of(r + 1, c + 1)) == 0 for r in range(made.rows) for c in range(made.cols))


def build_symbolic() -> Derivation:
    gradient = cross_entropy.build_symbolic().result  # sigma_i - y_i
    summed = lambda body: sp.Sum(body(k), (k, 1, K))
    chains = {
        "W": _finish(_through_logits(W[i, d], summed, D, gradient, i), {i: K, d: D}),
        "b": _finish(_through_logits(b[i], summed, D, gradient, i), {i: K}),
        "x": _finish(_through_logits(x[d], summed, D, gradient, i), {d: D}),
    }
    entries = {name: chain.current for name, chain in chains.items()}
    forms, symbols = _forms(K, D), _gradient_symbols(K, D)
    for nK, nD in ((2, 2), (3, 2), (2, 3)):
        at = {K: nK, D: nD}
        require(_matches(_forms(nK, nD)["W"], lambda r, c: entries["W"].xreplace({**at, i: r, d: c}).doit(), nK, nD),
                "entry (i, d) of (sigma - y) x^T")
        require(_matches(_forms(nK, nD)["b"], lambda r, c: entries["b"].xreplace({**at, i: r}).doit(), nK, nD),
                "entry i of sigma - y")
        require(_matches(_forms(nK, nD)["x"], lambda r, c: entries["x"].xreplace({**at, d: r}).doit(), nK, nD),
                "entry d of W^T (sigma - y)")
    notes = {"W": "entry (i, d) of the outer product (sigma - y) x^T", "b": "entry i of sigma - y",
             "x": "entry d of W^T (sigma - y): the error sent back to the layer below"}
    facts = {"W": ("entry-outer-error-x",), "b": ("entry-sigma-minus-y",), "x": ("entry-WT-error", "error-sent-back")}
    steps = []
    for name, chain in chains.items():
        chain.add(Step(lhs=symbols[name], rhs=forms[name], rule=Rule.MATRIX_FORM if name == "W" else Rule.VECTOR_FORM,
                       note=notes[name], uses=USES_SUM, facts=facts[name]))
        steps.extend(chain.steps)
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS,
                      assumptions=(RANGES, TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=tuple(steps), result=entries["W"], result_lhs=chains["W"].lhs,
                      definitions=((L, cross_entropy.loss_definition()),), semantics=_semantics(None),
                      results=tuple((name, chains[name].lhs, entries[name]) for name in ("W", "b", "x")),
                      shapes=SHAPES, sizes=(("D", None),))


def _logits_holding(logits: dict) -> dict:
    """{variable: [k, ...]}: the logits z_k whose definition holds the variable, read off SymPy's
    atoms once (W_rc: z_r only; b_r: z_r only; x_c: every z_k), so the chain rule for concrete K
    writes only the terms that are not zero."""
    holding: dict = {}
    for kk, definition in logits.items():
        for atom in definition.atoms(sp.Indexed):
            holding.setdefault(atom, []).append(kk)
    return holding


def _chain_on_the_simplex(lhs, rhs, note: str, facts: tuple) -> Chain:
    """A chain whose first step is the chain rule with the cross-entropy gradient in it, which
    holds where the targets sum to one."""
    chain = Chain(lhs, rhs, note, rule=Rule.CHAIN_RULE, facts=facts)
    chain.steps[0] = dataclasses.replace(chain.steps[0], uses=USES_SUM)
    return chain


def build_concrete(n: int, D: int) -> Derivation:
    """Each entry's chain rule keeps only the logits that hold its variable (dz_k/dW_rc = 0 for
    k != r): one term per entry of dL/dW and dL/db, K per entry of dL/dx, so O(K D) SymPy work
    (the logits that hold each variable are read off SymPy's atoms, _logits_holding).
    The cross-entropy gradient sigma_i - y_i is the derived one, instantiated per class; the
    definitions name S, so the verifier proves every entry over S through the layer z = W x + b
    (verify.concrete)."""
    features = D
    entry = cross_entropy.build_symbolic().result  # sigma_i - y_i, derived for every K: instantiated per class
    gradient = {z[r]: entry.xreplace({i: r}) for r in range(1, n + 1)}
    logits = {kk: logit(kk, features) for kk in range(1, n + 1)}
    holding = _logits_holding(logits)

    def matrix_chain(name, shape, variable_at):
        lhs = sp.ImmutableMatrix(*shape, lambda r, c: sp.Derivative(L, variable_at(r, c), evaluate=False))
        # The chain rule's terms come with the cross-entropy gradient dL/dz_k = sigma_k - y_k in
        # them: no entry holds an unevaluated dL/dz_k, which the numbers would differentiate once
        # per term.
        chained = sp.ImmutableMatrix(*shape, lambda r, c: sp.Add(*[
            gradient[z[kk]] * sp.Derivative(z[kk], variable_at(r, c), evaluate=False)
            for kk in holding[variable_at(r, c)]]))
        differentiated = chained.replace(lambda t: isinstance(t, sp.Derivative),
                                         lambda t: concrete.derivative_by_terms(logits[t.expr.indices[0]], *t.variables))
        if name == "x":
            # dL/dx_c is a sum over every class: shown once, with dz_k/dx_c = W_kc already taken,
            # not a second time with K unevaluated derivatives in each entry.
            return _chain_on_the_simplex(lhs, differentiated,
                                         "chain rule through every z_k, with dL/dz_k = sigma_k - y_k; dz_k/dx_c = W_kc",
                                         ("chain-through-logits-x", "ce-gradient-k", "d-affine-x"))
        chain = _chain_on_the_simplex(lhs, chained, "chain rule: only z_r holds the variable (dz_k/dvariable = 0 "
                                      "for k != r); dL/dz_r = sigma_r - y_r", (f"chain-through-own-logit-{name}", "ce-gradient-k"))
        return chain.then(lambda e: differentiated, Rule.DIFFERENTIATE,
                          "differentiate z_k = W_k1 x_1 + ... + W_kD x_D + b_k", uses=USES_SUM, facts=(f"d-affine-{name}",))

    chains = {"W": matrix_chain("W", (n, features), lambda r, c: W[r + 1, c + 1]),
              "b": matrix_chain("b", (n, 1), lambda r, c: b[r + 1]),
              "x": matrix_chain("x", (features, 1), lambda r, c: x[r + 1])}
    forms, steps = _forms(n, features), []
    explicit_results = {name: chain.current for name, chain in chains.items()}
    for name, chain in chains.items():
        chain.add(Step(lhs=chain.lhs, rhs=forms[name], rule=Rule.MATRIX_FORM if name == "W" else Rule.VECTOR_FORM,
                       note={"W": "recognise (sigma - y) x^T", "b": "recognise sigma - y",
                             "x": "recognise W^T (sigma - y)"}[name], uses=USES_SUM,
                       facts={"W": ("is-outer-error-x",), "b": ("is-sigma-minus-y",), "x": ("is-WT-error",)}[name]))
        steps.extend(chain.steps)
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=tuple(steps), result=explicit_results["W"], result_lhs=chains["W"].lhs,
                      # S named (proved over it, verify.concrete) and the loss by its definition
                      definitions=(*concrete.definitions(n), (L, -sp.Add(*[y[r] * sp.log(sigma[r]) for r in range(1, n + 1)]))),
                      semantics=_semantics(features),
                      results=tuple((name, chains[name].lhs, explicit_results[name]) for name in ("W", "b", "x")),
                      shapes=SHAPES, sizes=(("D", features),))
