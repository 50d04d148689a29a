"""A batch of N examples through z = W x + b, softmax and mean cross-entropy: dL/dW = (1/N)(P - Y)^T X.

Layout: rows are examples. X is N x D, W is K x D, b has length K, Z = X W^T + 1 b^T and P, Y are N x K.
The main result is the entry dL/dW_id (the K x D matrix for concrete sizes); results "W" and "b".
"""
from __future__ import annotations

import dataclasses
import functools

import mpmath
import sympy as sp

from ..settings import TARGETS_SUM_TO_ONE
from ..model import Assumption, Derivation, Rule, Semantics, Step, SymbolRole
from ..numeric.state import RowsMatrix
from ..numeric.softmax import stable_log_softmax, stable_softmax
from ..symbols import D, K, L, N, P, W, X, Y, Z, b, d, i, k, n as example, sigma, y
from ..algebra import index_templates, rewrites
from . import concrete, cross_entropy
from .common import TARGETS_NONNEGATIVE, Chain, require
from .roles import CLASSES, LOSS

NAME = "batched-linear-softmax-cross-entropy"
TITLE = "Backpropagation through a linear softmax classifier over a batch (mean loss)"
DESCRIPTION = "N examples, rows of X: dL/dW = (1/N) (P - Y)^T X, dL/db = (1/N) (P - Y)^T 1"
SIZES = ("K", "D", "N")
# Proved entry by entry over each example's S_n (verify.concrete RowsProver) at every K up to 512
# (4.5 CPU s at K = 512, D = 3, N = 4, 5.3 at D = N = 4; bench/README.md). The work grows with K D N,
# so larger D and N are refused (SizeLimitError).
FAST_SIZES = {"D": 4, "N": 4}

SYMBOLS = (SymbolRole("batch-inputs", "X", "inputs, one example per row: N x D"),
           SymbolRole("batch-targets", "Y", "targets, one distribution per row: N x K"),
           SymbolRole("batch-probs", "P", "softmax of each row of Z: N x K"),
           SymbolRole("batch-logits", "Z", "logits Z = X W^T + 1 b^T: N x K"),
           SymbolRole("weights", "W", "weights W[k, d], a K x D matrix"),
           SymbolRole("bias", "b", "bias, length K"),
           SymbolRole("batch", "N", "batch size"), SymbolRole("features", "D", "input dimension"), CLASSES, LOSS)
ROWS_SUM_TO_ONE = Assumption(TARGETS_SUM_TO_ONE, sp.Eq(sp.Sum(Y[example, k], (k, 1, K)), 1))
RANGES = Assumption("index-range", sp.And(sp.Le(1, i), sp.Le(i, K), sp.Le(1, d), sp.Le(d, D)))
USES_SUM = (ROWS_SUM_TO_ONE.id,)
SHAPES = (("X", "N x D"), ("W", "K x D"), ("b", "K x 1"), ("Z = X W^T + 1 b^T", "N x K"), ("P", "N x K"),
          ("Y", "N x K"), ("dL/dZ = (P - Y) / N", "N x K"), ("dL/dW", "K x D"), ("dL/db", "K x 1"))
_r = sp.Symbol("r", integer=True, positive=True)  # feature dummy
_s = sp.Symbol("s", integer=True, positive=True)  # class dummy inside the softmax
ROW_DENOMINATOR = concrete.ROW_DENOMINATOR  # S_n, example n's softmax denominator (concrete sizes)


def logit(row, column, features=D) -> sp.Expr:
    """Z_{row, column} = Sum_r X_{row, r} W_{column, r} + b_column."""
    if isinstance(features, int):
        return _written_out_logit(Z[row, column], sp.Integer(features))
    return sp.Sum(X[row, _r] * W[column, _r], (_r, 1, features)) + b[column]


# Z_ec = X_e1 W_c1 + ... + X_eD W_cD + b_c, built once per index shape: N K logits, in the engine
# and again in the verifier's layer.
_written_out_logit = index_templates.PerTemplate(lambda entry, features: sp.Add(
    *[X[entry.indices[0], c] * W[entry.indices[1], c] for c in range(1, int(features) + 1)]) + b[entry.indices[1]])


def loss_definition(classes=K, batch=N) -> sp.Expr:
    if isinstance(classes, int):
        mean = sp.Integer(1) / batch
        return sp.Add(*[_loss_term(Y[e, c], P[e, c], mean) for e in range(1, batch + 1) for c in range(1, classes + 1)])
    return -sp.Sum(sp.Sum(Y[example, k] * sp.log(P[example, k]), (k, 1, classes)), (example, 1, batch)) / batch


# -Y_nk log P_nk / N built once per index shape: SymPy's log asks assumptions of each P_nk.
_loss_term = index_templates.PerTemplate(lambda target, prob, mean: -mean * target * sp.log(prob))


def _probs_meaning(classes):
    def substitute(expr, _n):
        def row_softmax(entry):
            e, c = entry.indices
            if isinstance(classes, int):
                return sp.exp(Z[e, c]) / sp.Add(*[sp.exp(Z[e, s]) for s in range(1, classes + 1)])
            return sp.exp(Z[e, c]) / sp.Sum(sp.exp(Z[e, _s]), (_s, 1, classes))
        return expr.replace(lambda t: isinstance(t, sp.Indexed) and t.base == P, row_softmax)
    return substitute


def _logits_meaning(features):
    def substitute(expr, _n):
        return expr.replace(lambda t: isinstance(t, sp.Indexed) and t.base == Z,
                            lambda t: logit(*t.indices, features))
    return substitute


# (precision, the rows of X) -> {(W_c, b_c): column c of Z}: a pure function of exact values. A
# numeric dL/dW_cr moves one row of W, so the other K - 1 columns recur from the evaluation before;
# the batch's key is hashed once per evaluation, each row of W's once.
_LOGITS: dict = {}
_LOGITS_BATCHES = 8  # test points (batches X) kept
_LOGITS_COLUMNS = 1 << 13  # columns kept for one batch


def _logit_rows(env) -> list:
    """Z as a list of rows: the layer's own (no mpmath matrix is built or read per evaluation),
    unless Z itself is an array of the point (a numeric dL/dZ_nk fixes Z and perturbs it)."""
    if "Z" in env.arrays:
        logits = env.arrays["Z"]
        return [[logits[e, c] for c in range(logits.cols)] for e in range(logits.rows)]
    return env.array("Z_rows")


def _row_by_row(softmax):
    """A derived N x K array: `softmax` (numeric.softmax) of each row of Z."""
    def derived(env):
        return mpmath.matrix([softmax(row) for row in _logit_rows(env)])
    return derived


def _log_probs(env):
    """log P_nk, one log per row (numeric.softmax): the loss holds N K logs of P, and a numeric
    dL/dW_rc evaluates it at every step of mpmath.diff. Entries are read, never perturbed (no
    derivative is taken by log P), so they are kept as rows and read by position."""
    return RowsMatrix([stable_log_softmax(row) for row in _logit_rows(env)])


def _semantics(features: int | None, batch: int | None, classes: int | None) -> Semantics:
    def sizes(n):
        return {D: features or 2, N: batch or (3 if n == 2 else 2)}

    def arrays(rng, logits, sized):
        n, dims, rows = len(logits), sized[D], sized[N]
        weights = mpmath.matrix([[mpmath.mpf(rng.uniform(-1, 1)) for _ in range(dims)] for _ in range(n)])
        inputs = mpmath.matrix([[mpmath.mpf(rng.uniform(-2, 2)) for _ in range(dims)] for _ in range(rows)])
        targets = mpmath.matrix(rows, n)
        for e in range(rows):
            raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(n)]
            total = mpmath.fsum(raw)  # once per row, not once per entry (K^2 additions)
            for c in range(n):
                targets[e, c] = raw[c] / total
        return {"W": weights, "X": inputs, "b": list(logits), "Y": targets}  # b = this point's logits (extreme too)

    def affine(env):
        """Z = X W^T + 1 b^T as rows, one per example."""
        weights, inputs, bias = env.array("W"), env.array("X"), env.array("b")
        precision = tuple(mpmath.mp._prec_rounding)
        # Each row read once (a matrix lookup costs more than the arithmetic), with its exact key.
        examples = [[inputs[e, r] for r in range(inputs.cols)] for e in range(inputs.rows)]
        rows = [[weights[c, r] for r in range(weights.cols)] for c in range(weights.rows)]
        example_keys = [tuple(v._mpf_ for v in row) for row in examples]
        row_keys = [(*(v._mpf_ for v in row), bias[c]._mpf_) for c, row in enumerate(rows)]
        batch = (precision, *example_keys)
        if batch not in _LOGITS and len(_LOGITS) >= _LOGITS_BATCHES:
            _LOGITS.clear()
        columns = _LOGITS.setdefault(batch, {})
        if len(columns) >= _LOGITS_COLUMNS:
            columns.clear()

        def column(c):
            value = columns.get(row_keys[c])
            if value is None:
                value = columns[row_keys[c]] = [mpmath.fdot(example, rows[c]) + bias[c] for example in examples]
            return value
        return [list(row) for row in zip(*[column(c) for c in range(len(bias))])]

    return Semantics(arrays=arrays, sizes=sizes, index_ranges={d: D},
                     derived={"Z_rows": affine, "Z": lambda env: mpmath.matrix(env.array("Z_rows")),
                              "P": _row_by_row(stable_softmax), "log_P": _log_probs},
                     layers=((("P",), _probs_meaning(classes or K)), (("Z",), _logits_meaning(features or D))),
                     # SymPy needs ~30 s per step to differentiate the batched log-softmax and still ends
                     # undecided: every step here rests on the 50-digit numbers (and `require` for the forms).
                     prove=False,
                     # Symbolic sizes: K = 2, 3, 5 (not 8): each point differentiates an N x K loss N K times.
                     Ks=None if classes else (2, 3, 5))


def _example_gradient(row, column, batch=N) -> sp.Expr:
    """dL/dZ_{row, column}: the cross-entropy gradient sigma - y of that row, divided by N (mean)."""
    return _mean_gradient(P[row, column], Y[row, column], sp.Integer(1) / batch)


# Substituted once per index shape (index_templates): a concrete batch has N K logits.
_mean_gradient = index_templates.PerTemplate(  # sigma_i - y_i, substituted, not retyped
    lambda prob, target, mean: _cross_entropy_result().xreplace({sigma[i]: prob, y[i]: target}) * mean)


@functools.lru_cache(maxsize=1)
def _cross_entropy_result() -> sp.Expr:
    """Built once: every dL/dZ_nk of every entry (K^2 D N of them at concrete sizes) substitutes it."""
    return cross_entropy.build_symbolic().result


def _forms(classes, features, batch):
    probs, targets = sp.MatrixSymbol("P", batch, classes), sp.MatrixSymbol("Y", batch, classes)
    inputs = sp.MatrixSymbol("X", batch, features)
    error = (probs - targets).T
    mean = sp.Integer(1) / batch  # batch is N or an int: 1/N or a Rational, no sympify
    return {"W": mean * error * inputs, "b": mean * error * sp.OneMatrix(batch, 1)}


def _indexed(element):
    base = sp.IndexedBase(element.parent.name)
    if element.parent.shape[1] == 1 and element.parent.name in ("b",):
        return base[element.i + 1]
    return base[element.i + 1, element.j + 1]


def _explicit(form) -> sp.Matrix:
    from sympy.matrices.expressions.matexpr import MatrixElement
    made = sp.Matrix(form.as_explicit())
    return made.applyfunc(lambda e: e.replace(lambda t: isinstance(t, MatrixElement), _indexed))


def _replace_loss_gradients(expr, batch):
    return expr.replace(lambda t: isinstance(t, sp.Derivative) and t.expr == L,
                        lambda t: _example_gradient(*t.variables[0].indices, batch))


def _chain(variable, summed, features, batch, ranges):
    lhs = sp.Derivative(L, variable, evaluate=False)
    name = variable.base.name  # W or b: the facts name the variable the block differentiates by
    chain = Chain(lhs, summed(lambda e, c: sp.Derivative(L, Z[e, c], evaluate=False)
                              * sp.Derivative(Z[e, c], variable, evaluate=False)),
                  "chain rule: L depends on the variable through every logit Z_nk", rule=Rule.CHAIN_RULE,
                  facts=(f"chain-through-batch-logits-{name}",))
    chain.then(lambda e: _replace_loss_gradients(e, batch), Rule.BATCH_MEAN,
               "dL/dZ_nk = (P_nk - Y_nk) / N: example n's cross-entropy gradient, divided by N for the mean",
               uses=USES_SUM, facts=("batch-mean-gradient",))
    chain.then(lambda e: e.replace(lambda t: isinstance(t, sp.Derivative) and t.expr.is_Indexed and t.expr.base == Z,
                                   lambda t: sp.Derivative(logit(*t.expr.indices, features), *t.variable_count,
                                                           evaluate=False)),
               Rule.SUBSTITUTE_LOGITS, "Z_nk = sum_d X_nd W_kd + b_k", uses=USES_SUM, facts=("batch-logits",))
    chain.then(lambda e: rewrites.evaluate_derivatives_of(e, keep=L), Rule.DIFFERENTIATE,
               "differentiate the affine map: dW_kr/dW_id = delta_ik delta_dr, db_k/db_i = delta_ik", uses=USES_SUM,
               facts=(f"d-batch-affine-{name}",))
    if ranges is not None:
        chain.then(lambda e: rewrites.collapse_delta_sums(e, ranges=ranges), Rule.DELTA_SUM,
                   "the Kronecker deltas collapse the sums over k and d", uses=USES_SUM,
                   facts=(f"delta-collapse-{name}",))
        if sp.factor_terms(chain.current) != chain.current:
            chain.then(sp.factor_terms, Rule.FACTOR, "factor out 1/N", uses=USES_SUM, facts=("factor-one-over-N",))
    return chain


def _derivation(K_value, chains, forms, entries, feature_size, batch_size, semantics, definitions):
    notes = {"W": "entry (i, d) of (1/N) (P - Y)^T X: a K x D matrix, like W",
             "b": "entry i of (1/N) (P - Y)^T 1: the errors averaged over the batch"}
    facts = {"W": ("entry-batch-W",), "b": ("entry-batch-b",)} if K_value is None else \
        {"W": ("is-batch-W",), "b": ("is-batch-b",)}
    steps = []
    for name, chain in chains.items():
        # Concrete sizes: the written-out left side, so every entry of the form is checked against its own.
        chain.add(Step(lhs=sp.Derivative(L, sp.MatrixSymbol(name, *forms[name].shape), evaluate=False)
                       if K_value is None else chain.lhs,
                       rhs=forms[name], rule=Rule.MATRIX_FORM if name == "W" else Rule.VECTOR_FORM,
                       note=notes[name], uses=USES_SUM, facts=facts[name]))
        steps.extend(chain.steps)
    return Derivation(name=NAME, title=TITLE, K=K_value, symbols=SYMBOLS,
                      assumptions=(RANGES, ROWS_SUM_TO_ONE, TARGETS_NONNEGATIVE) if K_value is None
                      else (ROWS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=tuple(steps), result=entries["W"], result_lhs=chains["W"].lhs,
                      definitions=definitions, semantics=semantics,
                      results=tuple((name, chains[name].lhs, entries[name]) for name in ("W", "b")),
                      shapes=SHAPES, sizes=(("D", feature_size), ("N", batch_size)))


def build_symbolic() -> Derivation:
    summed = lambda body: sp.Sum(sp.Sum(body(example, k), (k, 1, K)), (example, 1, N))
    chains = {"W": _chain(W[i, d], summed, D, N, {i: K, d: D}), "b": _chain(b[i], summed, D, N, {i: K})}
    entries = {name: chain.current for name, chain in chains.items()}
    for nK, nD, nN in ((2, 2, 2), (3, 2, 3)):
        at = {K: nK, D: nD, N: nN}
        forms = {name: _explicit(f) for name, f in _forms(nK, nD, nN).items()}
        require(all(sp.expand(forms["W"][r, c] - entries["W"].xreplace({**at, i: r + 1, d: c + 1}).doit()) == 0
                    for r in range(nK) for c in range(nD)), "entry (i, d) of (1/N) (P - Y)^T X")
        require(all(sp.expand(forms["b"][r, 0] - entries["b"].xreplace({**at, i: r + 1}).doit()) == 0
                    for r in range(nK)), "entry i of (1/N) (P - Y)^T 1")
    return _derivation(None, chains, _forms(K, D, N), entries, None, None, _semantics(None, None, None),
                       ((L, loss_definition()),))


def _row_denominator(row: int, classes: int) -> sp.Expr:
    """S_n = e^{Z_n1} + ... + e^{Z_nK}: example n's softmax denominator."""
    return sp.Add(*[sp.exp(Z[row, c]) for c in range(1, classes + 1)])


# dL/dv = sum of dL/dZ_nr dZ_nr/dv over the logits that hold v (dZ_nr/dv by SymPy, term by term),
# built once per index shape: K D + K entries of a few shapes. Sound by index_templates' rule: it is
# made from its arguments' atoms alone (the logits come written out, so their feature indices are
# renamed with the rest), and a term-by-term derivative treats distinct atoms as independent.
_chain_entry = index_templates.PerTemplate(lambda variable, *parts: sp.Add(*[
    gradient * concrete.derivative_by_terms(logit, variable) for gradient, logit in zip(parts[::2], parts[1::2])]))


def build_concrete(n: int, D: int, N: int) -> Derivation:
    """Each entry's chain rule keeps only the logits that hold its variable (Z_er for W_rc and b_r,
    one per example: N terms an entry), with example e's gradient (P_er - Y_er) / N and dZ_er/dW_rc
    (SymPy's, term by term) in it; the
    definitions name each example's denominator S_e, so the verifier proves every entry over them
    through the layer Z = X W^T + 1 b^T (verify.concrete, RowsProver)."""
    classes, features, batch = n, D, N
    logits = {(e, c): logit(e, c, features) for e in range(1, batch + 1) for c in range(1, classes + 1)}
    holding: dict = {}  # variable -> the (e, c) whose Z_ec holds it, read off SymPy's atoms
    for position, definition in logits.items():
        for atom in definition.atoms(sp.Indexed):
            holding.setdefault(atom, []).append(position)
    # dL/dZ_ec, built once per logit: every variable in Z_ec's definition (D + 1 of them) uses it.
    gradients = {position: _example_gradient(*position, batch) for position in logits}
    chains = {}
    for name, shape, variable_at in (("W", (classes, features), lambda r, c: W[r + 1, c + 1]),
                                     ("b", (classes, 1), lambda r, c: b[r + 1])):
        lhs = sp.ImmutableMatrix(*shape, lambda r, c: sp.Derivative(L, variable_at(r, c), evaluate=False))
        # Shown once with dZ_nr/dvariable taken (X_nc, or 1 for b_r): a second display would hold N
        # unevaluated derivatives in every entry, each checked numerically.
        differentiated = sp.ImmutableMatrix(*shape, lambda r, c: _chain_entry(variable_at(r, c), *[
            part for position in holding[variable_at(r, c)] for part in (gradients[position], logits[position])]))
        chain = Chain(lhs, differentiated, "chain rule: only the logits Z_nr hold the variable; "
                      "dL/dZ_nr = (P_nr - Y_nr) / N; differentiate Z_nr = X_n1 W_r1 + ... + X_nD W_rD + b_r",
                      rule=Rule.CHAIN_RULE, facts=(f"chain-through-own-batch-logits-{name}", "batch-mean-gradient",
                                                   f"d-batch-affine-{name}"))
        chain.steps[0] = dataclasses.replace(chain.steps[0], uses=USES_SUM)
        chains[name] = chain
    entries = {name: chain.current for name, chain in chains.items()}
    forms = _forms(classes, features, batch)
    definitions = (*[(ROW_DENOMINATOR[e], _row_denominator(e, classes)) for e in range(1, batch + 1)],
                   (L, loss_definition(classes, batch)))
    return _derivation(classes, chains, forms, entries, features, batch, _semantics(features, batch, classes),
                       definitions)
