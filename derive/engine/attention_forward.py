"""Attention's forward pass S = Q K^T / sqrt(D), P = softmax(S) row-wise, O = P V: names, entries, meaning.

Shared by the attention derivations: the canonical SymPy names (the JSON contract), each forward
quantity written out entry by entry (as a Sum for symbolic sizes, written out for concrete ones),
and the Semantics that tells the verifier what every name means at a test point and in a proof.
Sizes: K keys (the softmax runs over them), N queries, D the head dimension (of Q, K and V).
"""
from __future__ import annotations

from typing import Callable

import mpmath
import sympy as sp

from ..errors import UsageError
from ..model import Semantics, SymbolRole
from ..numeric.softmax import stable_softmax
from ..symbols import D, K, N, m, d, j, k, n
from ..algebra import rewrites

# Canonical names. The key matrix is `Kmat` (printed K): the Symbol K is already the number of keys.
Q = sp.IndexedBase("Q")  # queries, N x D
Kmat = sp.IndexedBase("Kmat")  # keys, K x D
V = sp.IndexedBase("V")  # values, K x D
S = sp.IndexedBase("S")  # scores Q K^T / sqrt(D), N x K
P = sp.IndexedBase("P")  # attention weights softmax(S) row by row, N x K
O = sp.IndexedBase("O")  # output P V, N x D
dO = sp.IndexedBase("dO")  # upstream gradient dL/dO, N x D
dP = sp.IndexedBase("dP")  # dL/dP, N x K
dS = sp.IndexedBase("dS")  # dL/dS, N x K
r = sp.Symbol("r", integer=True, positive=True)  # head-dimension dummy, 1 <= r <= D
# m (from symbols): the query dummy, 1 <= m <= N
# The loss stand-in's own dummies: a chain rule through O_mr must not capture them.
_s, _t = sp.symbols("s t", integer=True, positive=True)

SYMBOLS = (SymbolRole("queries", "Q", "queries, N x D"), SymbolRole("keys", "K", "keys, K x D"),
           SymbolRole("values", "V", "values, K x D"), SymbolRole("scores", "S", "scores Q K^T / sqrt(D), N x K"),
           SymbolRole("attention", "P", "attention weights, softmax of each row of S, N x K"),
           SymbolRole("output", "O", "output P V, N x D"),
           SymbolRole("upstream-output", "dO", "upstream gradient dL/dO, N x D"),
           SymbolRole("loss", "L", "a scalar loss computed from O"),
           SymbolRole("keys-count", "K", "number of keys"), SymbolRole("queries-count", "N", "number of queries"),
           SymbolRole("head-dimension", "D", "head dimension"))
# Concrete sizes stay small: every entry is a written-out sum over keys or the head dimension, and
# SymPy's proofs grow quickly with K N D (CPU for all steps: 2.5 s at K N D = 8, 6 s at 12, 13 s at
# 16, 39 s at 24, 53 s at 32); above MAX_PROVED_ENTRIES the 50-digit numbers alone carry each step.
# 8 (K = 2 at N = D = 2) keeps `verify` affordable: the symbolic-size proofs cover every K already.
MAX_KEYS, MAX_QUERIES, MAX_HEAD = 8, 4, 4
MAX_PROVED_ENTRIES = 8


def check_concrete_sizes(name: str, *, keys: int, queries: int, head: int) -> None:
    # Not only a guard: the numeric checker (derive.numeric.evaluate) takes a K x 1 matrix symbol for
    # a vector, so the matrix-form steps dL/dV, dL/dQ, dL/dK cannot be evaluated at D = 1.
    if head < 2:
        raise UsageError(f"{name} takes a head dimension D of at least 2, not {head}")
    for label, value, top in (("K", keys, MAX_KEYS), ("N", queries, MAX_QUERIES), ("D", head, MAX_HEAD)):
        if value > top:
            raise UsageError(f"{name} takes concrete {label} at most {top} (K <= {MAX_KEYS}, N <= {MAX_QUERIES}, "
                             f"D <= {MAX_HEAD}), not {value}")


SHAPES = (("Q", "N x D"), ("K", "K x D"), ("V", "K x D"), ("S = Q K^T / sqrt(D)", "N x K"),
          ("P = softmax(S) by rows", "N x K"), ("O = P V", "N x D"), ("dO", "N x D"),
          ("dP = dO V^T", "N x K"), ("dS", "N x K"), ("dQ", "N x D"), ("dK", "K x D"), ("dV", "K x D"))


def summed(body: Callable, *limits) -> sp.Expr:
    """Sum of body over (dummy, size) pairs: a SymPy Sum for a symbolic size, written out for an int."""
    (dummy, size), rest = limits[0], limits[1:]
    inner = (lambda value: summed(lambda *more: body(value, *more), *rest)) if rest else body
    if isinstance(size, int):
        return sp.Add(*[inner(value) for value in range(1, size + 1)])
    return sp.Sum(inner(dummy), (dummy, 1, size))


def score(row, key, *, head=D) -> sp.Expr:
    """S_{row, key} = Sum_r Q_{row, r} K_{key, r} / sqrt(D)."""
    return summed(lambda e: Q[row, e] * Kmat[key, e], (r, head)) / sp.sqrt(head)


def weight(row, key, *, keys=K) -> sp.Expr:
    """P_{row, key} = e^{S_{row, key}} / Sum_k e^{S_{row, k}}."""
    return sp.exp(S[row, key]) / summed(lambda c: sp.exp(S[row, c]), (k, keys))


def output(row, column, *, keys=K) -> sp.Expr:
    """O_{row, column} = Sum_k P_{row, k} V_{k, column}."""
    return summed(lambda c: P[row, c] * V[c, column], (k, keys))


def loss_stand_in(*, queries=N, head=D) -> sp.Expr:
    """For checking only: L = Sum_m Sum_r dO_mr O_mr has dL/dO = dO for a fixed dO, so any loss with
    upstream gradient dO has the same gradients (the chain rule sees only dO)."""
    return summed(lambda a, b: dO[a, b] * O[a, b], (_s, queries), (_t, head))


def _replacing(base: sp.IndexedBase, entry: Callable) -> Callable:
    def substitute(expr, _n=None):
        return expr.replace(lambda t: isinstance(t, sp.Indexed) and t.base == base, lambda t: entry(*t.indices))
    return substitute


def definitions_layers(*, keys=K, queries=N, head=D, backward: dict | None = None) -> tuple:
    """Proof layers, innermost first: the backward names (dS, dP) by their formulas, then O, P, S by
    their definitions; derivatives with respect to each level are taken before it is substituted."""
    layers = tuple(((name,), _replacing(base, entry)) for name, (base, entry) in (backward or {}).items())
    return layers + ((("O",), _replacing(O, lambda a, b: output(a, b, keys=keys))),
                     (("P",), _replacing(P, lambda a, b: weight(a, b, keys=keys))),
                     (("S",), _replacing(S, lambda a, b: score(a, b, head=head))))


def ranges(*, keys=K, queries=N, head=D) -> dict:
    return {n: queries, d: head, j: keys, k: keys, m: queries, r: head}


MAX_NESTING = 4  # sums in sums in a chain rule through the loss: loss, O or S, and their definitions


def collapse_deltas(expr: sp.Basic, *, keys=K, queries=N, head=D, quickly: bool = False) -> sp.Basic:
    """Sums over a Kronecker delta's dummy collapse, whichever limit of a multiple Sum it is.

    SymPy's doit works through a multiple Sum from its innermost limit out and stops at the first it
    cannot do, so the limits whose dummy sits in a delta go innermost first (the bounds are constants:
    the order is free); the index ranges then pick the Piecewise branch (sympy#13993). `quickly`:
    the checker's way (rewrites.collapse_delta_sums_quickly), same values, not the displayed form."""
    def delta_first(summation: sp.Sum) -> sp.Sum:
        in_delta = set().union(*(delta.free_symbols for delta in summation.function.atoms(sp.KroneckerDelta)))
        limits = sorted(summation.limits, key=lambda limit: limit[0] not in in_delta)
        return sp.Sum(summation.function, *limits)
    facts = ranges(keys=keys, queries=queries, head=head)
    # Collapsing an inner sum can leave an outer delta behind a limit that no longer needs to be
    # first: reorder and collapse again, at most once per nesting level.
    for _level in range(MAX_NESTING):
        reordered = expr.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta), delta_first)
        collapsed = (rewrites.collapse_delta_sums_quickly if quickly else rewrites.collapse_delta_sums)(
            reordered, ranges=facts)
        if collapsed == expr:
            break
        expr = collapsed
    return expr


# --- numeric meaning at a test point --------------------------------------------------------------

def _scores(env):
    queries, keys = env.array("Q"), env.array("Kmat")
    scale = 1 / mpmath.sqrt(queries.cols)
    out = mpmath.matrix(queries.rows, keys.rows)
    for a in range(queries.rows):
        for c in range(keys.rows):
            out[a, c] = mpmath.fsum(queries[a, e] * keys[c, e] for e in range(queries.cols)) * scale
    return out


def _row_softmax(env):
    scores = env.array("S")
    out = mpmath.matrix(scores.rows, scores.cols)
    for a in range(scores.rows):
        for c, value in enumerate(stable_softmax([scores[a, c] for c in range(scores.cols)])):
            out[a, c] = value
    return out


def _product(left: str, right: str, *, transpose_right: bool = False):
    def run(env):
        a, b = env.array(left), env.array(right)
        b = b.T if transpose_right else b
        return a * b
    return run


def _softmax_backward(env):
    """dS = P * (dP - rowsum(dP * P)): the row-wise softmax VJP, computed directly."""
    probs, upstream = env.array("P"), env.array("dP")
    out = mpmath.matrix(probs.rows, probs.cols)
    for a in range(probs.rows):
        inner = mpmath.fsum(upstream[a, c] * probs[a, c] for c in range(probs.cols))
        for c in range(probs.cols):
            out[a, c] = probs[a, c] * (upstream[a, c] - inner)
    return out


DERIVED = {"S": _scores, "P": _row_softmax, "O": _product("P", "V"),
           "dP": _product("dO", "V", transpose_right=True), "dS": _softmax_backward}


def random_inputs(rng, logits, sizes) -> dict:
    """Q, K, V, dO at random; column 1 of K carries this point's logits (times sqrt(D)) and column 1
    of Q is close to 1, so the scores stay near the logits: |S| ~ 1000 at the extreme points."""
    keys, queries, head = len(logits), sizes[N], sizes[D]
    root = mpmath.sqrt(head)
    uniform = lambda lo, hi: mpmath.mpf(rng.uniform(lo, hi))
    key_matrix = mpmath.matrix([[logits[c] * root if e == 0 else uniform(-1, 1) for e in range(head)]
                                for c in range(keys)])
    query_matrix = mpmath.matrix([[uniform(0.998, 1.002) if e == 0 else uniform(-1, 1) / (1 + abs(logits[0]))
                                   for e in range(head)] for _ in range(queries)])
    values = mpmath.matrix([[uniform(-2, 2) for _ in range(head)] for _ in range(keys)])
    upstream = mpmath.matrix([[uniform(-2, 2) for _ in range(head)] for _ in range(queries)])
    return {"Q": query_matrix, "Kmat": key_matrix, "V": values, "dO": upstream}


def semantics(*, keys: int | None, queries: int | None, head: int | None, backward: dict, prove: bool) -> Semantics:
    """Test points and proof layers for the attention derivations at these sizes (None: symbolic)."""
    sizes_K, sizes_N, sizes_D = keys or K, queries or N, head or D

    def sizes(count):
        return {N: queries or (3 if count == 2 else 2), D: head or 2}

    def refold(expr, _n):
        collapsed = collapse_deltas(expr, keys=sizes_K, queries=sizes_N, head=sizes_D, quickly=True)
        return sums_in_normal_form(name_scores(collapsed)) if keys is None else collapsed

    return Semantics(arrays=random_inputs, sizes=sizes, index_ranges={n: N, d: D}, derived=dict(DERIVED),
                     layers=definitions_layers(keys=sizes_K, queries=sizes_N, head=sizes_D, backward=backward),
                     refold=refold, prove=prove, Ks=None if keys else (2, 3, 4))


# --- proofs at symbolic sizes: nested sums in one normal form -------------------------------------

def name_scores(expr: sp.Basic) -> sp.Basic:
    """Sum_x Q_ax K_bx -> sqrt(D) S_ab once every derivative is taken: an identity proved with S free
    holds in particular at S = Q K^T / sqrt(D), and the sums over the head dimension leave the exponents."""
    def named(summation: sp.Sum) -> sp.Expr:
        (dummy, low, high), = summation.limits
        factors = sp.Mul.make_args(summation.function)
        query = [f for f in factors if isinstance(f, sp.Indexed) and f.base == Q and f.indices[1] == dummy]
        key = [f for f in factors if isinstance(f, sp.Indexed) and f.base == Kmat and f.indices[1] == dummy]
        if (len(factors) == 2 and len(query) == 1 and len(key) == 1 and (low, high) == (1, D)
                and not (query[0].indices[0].has(dummy) or key[0].indices[0].has(dummy))):
            return sp.sqrt(D) * S[query[0].indices[0], key[0].indices[0]]
        return summation
    return expr.replace(lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1, named)


MAX_BOUND = 16  # summation dummies bound at once in a normal form (attention nests at most 6)
_CANONICAL = tuple(sp.Symbol(f"c{depth}", integer=True, positive=True) for depth in range(MAX_BOUND))


def sums_in_normal_form(expr: sp.Basic) -> sp.Basic:
    """Every sum expanded term by term and fused: Sum_a f(a) Sum_b g(a, b) -> Sum_{a, b} f(a) g(a, b),
    factors free of the dummies outside, unused dummies counted, limits sorted, dummies named by depth.

    Each rewrite is an identity for sums with constant bounds (a sum whose bounds involve a dummy is
    left alone), so equal normal forms prove equal sides; the exchanged and the recognised sums of the
    rowsum identity and the chain-rule sums of dQ and dK then meet in one form. The names c0, c1, ...
    go by nesting depth (an inner sum never reuses an outer name), after every sum was first given
    fresh Dummies: no rename captures a variable (the shared same_dummy can, see the note)."""
    return _canonical_names(_fused(expr), 0)


def _fused(expr: sp.Basic) -> sp.Basic:
    if isinstance(expr, sp.Sum):
        return _fused_sum(expr)
    if not expr.args or isinstance(expr, sp.Indexed):
        return expr
    return expr.func(*[_fused(arg) for arg in expr.args])


def _constant_bounds(summation: sp.Sum) -> bool:
    dummies = set(summation.variables)
    return not any(bound.free_symbols & dummies for _dummy, *bounds in summation.limits for bound in bounds)


def _fused_sum(summation: sp.Sum) -> sp.Expr:
    if not _constant_bounds(summation):
        return summation
    fresh = {dummy: sp.Dummy(dummy.name, integer=True, positive=True) for dummy in summation.variables}
    limits = [(fresh[dummy], low, high) for dummy, low, high in summation.limits]
    body = sp.expand(_fused(summation.function.xreplace(fresh)))
    return sp.Add(*[_fused_term(term, limits) for term in sp.Add.make_args(body)])


def _fused_term(term: sp.Expr, limits: list) -> sp.Expr:
    """Sum over `limits` of one product: inner sums that use these dummies join the limits."""
    limits = list(limits)
    while True:
        dummies = {dummy for dummy, *_bounds in limits}
        inner = next((f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum) and f.free_symbols & dummies
                      and _constant_bounds(f)), None)
        if inner is None:
            break
        fresh = {dummy: sp.Dummy(dummy.name, integer=True, positive=True) for dummy in inner.variables}
        limits += [(fresh[dummy], low, high) for dummy, low, high in inner.limits]
        term = sp.expand(term / inner * inner.function.xreplace(fresh))
    dummies = {dummy for dummy, *_bounds in limits}
    inside = [f for f in sp.Mul.make_args(term) if f.free_symbols & dummies]
    outside = sp.Mul(*[f for f in sp.Mul.make_args(term) if not f.free_symbols & dummies])
    body = sp.Mul(*inside)
    used = sorted((limit for limit in limits if limit[0] in body.free_symbols), key=lambda limit: (str(limit[1:])))
    count = sp.Mul(*[high - low + 1 for dummy, low, high in limits if dummy not in body.free_symbols])
    return count * outside * (sp.Sum(body, *used) if used else body)


def _canonical_names(expr: sp.Basic, depth: int) -> sp.Basic:
    """Top-down: a Sum's dummies become c_depth, c_(depth+1), ... in the order of its limits."""
    if isinstance(expr, sp.Sum):
        names = {dummy: _CANONICAL[depth + place] for place, dummy in enumerate(expr.variables)}
        body = _canonical_names(expr.function.xreplace(names), depth + len(names))
        return sp.Sum(body, *[(names[dummy], low, high) for dummy, low, high in expr.limits])
    if not expr.args or isinstance(expr, sp.Indexed):
        return expr
    return expr.func(*[_canonical_names(arg, depth) for arg in expr.args])
