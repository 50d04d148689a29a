"""Backward through attention O = softmax(Q K^T / sqrt(D)) V: dV, dP, dS, dQ, dK and rowsum(dP * P) = rowsum(dO * O).

The main result is dS = P * (dP - rowsum(dO * O)), the row-wise softmax VJP in the form
memory-efficient kernels use: the identity rowsum(dP * P) = rowsum(dO * O), derived as its own
chain, lets them skip storing P. Results "V", "P", "rowsum", "S", "Q", "K"; rows are queries.
"""
from __future__ import annotations

import sympy as sp

from ..model import Assumption, Derivation, Rule, Step
from ..symbols import D, K, L, N, d, i, j, k, n, sigma
from ..algebra import rewrites
from . import softmax_jacobian
from .attention_forward import (MAX_KEYS, MAX_PROVED_ENTRIES, SHAPES, SYMBOLS, Kmat, O, P, Q, S, V, check_concrete_sizes,
                                collapse_deltas, dO, dP, dS, loss_stand_in, m, output, r, score, semantics, summed,
                                weight)
from .common import Chain, entrywise, require

NAME = "attention-backward"
TITLE = "Backpropagation through attention: O = softmax(Q K^T / sqrt(D)) V"
DESCRIPTION = ("dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dO * O)), dQ = dS K / sqrt(D), "
               "dK = dS^T Q / sqrt(D); rowsum(dP * P) = rowsum(dO * O)")
SIZES = ("K", "D", "N")
MAX_CONCRETE_K = MAX_KEYS

RANGES = Assumption("index-range", sp.And(sp.Le(1, n), sp.Le(n, N), sp.Le(1, j), sp.Le(j, K),
                                          sp.Le(1, d), sp.Le(d, D)))
_UPSTREAM = {O: dO, P: dP, S: dS}


def _name_upstream(expr: sp.Basic) -> sp.Basic:
    """dL/dO_ab -> dO_ab, dL/dP_ab -> dP_ab, dL/dS_ab -> dS_ab: named, whatever L is."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr == L and e.variables[0].base in _UPSTREAM,
                        lambda e: _UPSTREAM[e.variables[0].base][e.variables[0].indices])


class _Sizes:
    """keys, queries, head: symbols (K, N, D) or ints; builds the forward definitions at these sizes."""

    def __init__(self, keys, queries, head):
        self.keys, self.queries, self.head = keys, queries, head
        self.is_symbolic = not isinstance(keys, int)
        self.definition = {O: lambda a, b: output(a, b, keys=keys), P: lambda a, b: weight(a, b, keys=keys),
                           S: lambda a, b: score(a, b, head=head)}

    def map(self, rewrite):
        return rewrite if self.is_symbolic else entrywise(rewrite)

    def matrix(self, entry, rows, cols, row_index, col_index):
        """The symbolic-size entry (at row_index, col_index) or the explicit rows x cols matrix."""
        if self.is_symbolic:
            return entry(row_index, col_index)
        return sp.Matrix(rows, cols, lambda a, b: entry(a + 1, b + 1))


def _substitute_definitions(expr: sp.Basic, sizes: _Sizes) -> sp.Basic:
    """d X_ab / d var -> d (definition of X_ab) / d var, left unevaluated for display."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.is_Indexed and e.expr.base in sizes.definition,
                        lambda e: sp.Derivative(sizes.definition[e.expr.base](*e.expr.indices), *e.variable_count,
                                                evaluate=False))


def _gradient(sizes: _Sizes, target, base, shape, at, limits, *, note: str, name: str) -> Chain:
    """dL/d target: chain rule through every entry base[a, b], name the upstream gradient, substitute
    the definition of base, differentiate, and (symbolic sizes) let the Kronecker deltas collapse.
    `name` (V, P, Q or K) picks the facts: each gradient's steps say what they use for that variable."""
    def lhs(a, b):
        return sp.Derivative(L, target[a, b], evaluate=False)

    def first(a, b):
        return summed(lambda x, y: sp.Derivative(L, base[x, y], evaluate=False)
                      * sp.Derivative(base[x, y], target[a, b], evaluate=False), *limits)
    chain = Chain(sizes.matrix(lhs, *shape, *at), sizes.matrix(first, *shape, *at), note, rule=Rule.CHAIN_RULE,
                  facts=(f"chain-through-{base}-{name}",))
    chain.then(sizes.map(_name_upstream), Rule.UPSTREAM_GRADIENT, "name the upstream gradient",
               facts=(f"upstream-d{base}-{name}",))
    chain.then(sizes.map(lambda e: _substitute_definitions(e, sizes)), Rule.SUBSTITUTE_DEFINITION,
               f"substitute the definition of {base}", facts=(f"write-out-{base}-{name}",))
    chain.then(sizes.map(lambda e: rewrites.evaluate_derivatives_of(e, keep=L)), Rule.DIFFERENTIATE, "differentiate",
               facts=(f"d-{base}-by-{name}",))
    if sizes.is_symbolic:
        chain.then(collapse_deltas, Rule.DELTA_SUM,
                   "the Kronecker deltas collapse the sums", facts=(f"deltas-collapse-d{name}",))
    if sizes.map(sp.factor_terms)(chain.current) != chain.current:
        chain.then(sizes.map(sp.factor_terms), Rule.FACTOR, "factor out 1/sqrt(D)", facts=(f"scale-leaves-sum-d{name}",))
    return chain


def _softmax_jacobian_entry(sizes: _Sizes):
    """d P_{row, a} / d S_{row, b} from the softmax-jacobian derivation, with sigma -> row of P."""
    if sizes.is_symbolic:
        result = softmax_jacobian.build_symbolic().result
        entry = lambda a, b: result.xreplace({i: a, j: b})
    else:
        result = softmax_jacobian.build_concrete(sizes.keys).result
        entry = lambda a, b: result[int(a) - 1, int(b) - 1]

    def substitute(expr):
        def known(derivative):
            (row, a), (_row, b) = derivative.expr.indices, derivative.variables[0].indices
            return entry(a, b).replace(lambda t: isinstance(t, sp.Indexed) and t.base == sigma,
                                       lambda t: P[row, t.indices[0]])
        return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.is_Indexed and e.expr.base == P
                            and e.variables[0].base == S, known)
    return substitute


def _softmax_backward(sizes: _Sizes, identity: tuple):
    """dS: the row-wise softmax VJP through the softmax Jacobian, then the rowsum identity."""
    def entry_lhs(a, b):
        return sp.Derivative(L, S[a, b], evaluate=False)

    def first(a, b):
        return summed(lambda c: sp.Derivative(L, P[a, c], evaluate=False) * sp.Derivative(P[a, c], S[a, b],
                                                                                          evaluate=False),
                      (k, sizes.keys))
    rows, cols = sizes.queries, sizes.keys
    chain = Chain(sizes.matrix(entry_lhs, rows, cols, n, j), sizes.matrix(first, rows, cols, n, j),
                  "chain rule: row n of P depends only on row n of S", rule=Rule.CHAIN_RULE, facts=("chain-through-row-P",))
    chain.then(sizes.map(_name_upstream), Rule.UPSTREAM_GRADIENT, "name the upstream gradient dP",
               facts=("upstream-dP-dS",))
    chain.then(sizes.map(_softmax_jacobian_entry(sizes)), Rule.SUBSTITUTE_RESULT,
               "the softmax Jacobian of row n: d P_nk / d S_nj = P_nk (delta_kj - P_nj)", facts=("softmax-jacobian-row",))
    if sizes.is_symbolic:
        chain.then(rewrites.expand_sums, Rule.LINEARITY, "split the sum; P_nj does not depend on k",
                   facts=("sum-splits", "P-nj-constant-in-k"))
        chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(j,)), Rule.DELTA_SUM,
                   "the Kronecker delta collapses the sum", facts=("delta-keeps-k-equal-j",))
    chain.then(sizes.map(lambda e: sp.factor_terms(sp.expand(e))), Rule.FACTOR, "factor out P_nj",
               facts=("factor-P-nj",))
    total, replacement = identity
    chain.then(sizes.map(lambda e: _replace_rowsum(e, total, replacement)), Rule.ROWSUM_IDENTITY,
               "rowsum(dP * P) = rowsum(dO * O): P need not be kept for the backward pass", facts=("rowsum-identity-used",))
    return chain


def _replace_rowsum(expr, total, replacement):
    """Replace Sum_k dP_nk P_nk (for the row of this entry) by Sum_r dO_nr O_nr."""
    rows = {t.indices[0] for t in expr.atoms(sp.Indexed) if t.base == dP}
    for row in rows:
        old, new = total(row), replacement(row)
        expr = expr.subs(old, new) if old.is_Add is False else expr.subs(-old, -new)
    return expr


def _rowsum_identity(sizes: _Sizes, dP_entry):
    """Sum_k dP_nk P_nk = Sum_r dO_nr O_nr: substitute dP = dO V^T, exchange the sums, recognise O.
    For concrete sizes the identity is shown for every row at once (a column of N entries)."""
    def total(row):
        return summed(lambda c: dP[row, c] * P[row, c], (k, sizes.keys))

    rows = [n] if sizes.is_symbolic else range(1, sizes.queries + 1)
    heads = [r] if sizes.is_symbolic else range(1, sizes.head + 1)
    lhs = total(n) if sizes.is_symbolic else sp.Matrix([total(row) for row in rows])
    substituted = sizes.map(lambda e: e.replace(lambda t: isinstance(t, sp.Indexed) and t.base == dP,
                                                lambda t: dP_entry(*t.indices)))(lhs)
    chain = Chain(lhs, substituted, "dP_nk = sum_r dO_nr V_kr, derived above", rule=Rule.SUBSTITUTE_RESULT,
                  facts=("dP-result",))
    chain.then(sizes.map(lambda e: _exchange_sums(e, sizes)), Rule.SWAP_SUMS, "exchange the sums over k and r",
               facts=("swap-sums-k-r",))
    named = {sizes.definition[O](row, c): O[row, c] for row in rows for c in heads}
    chain.then(sizes.map(lambda e: e.xreplace(named)), Rule.RECOGNISE, "recognise O_nr = sum_k P_nk V_kr",
               facts=("recognise-O",))
    identity = chain.current

    def replacement(row):
        return identity.xreplace({n: row}) if sizes.is_symbolic else identity[int(row) - 1]
    return chain, (total, replacement)


def _exchange_sums(expr, sizes: _Sizes):
    """Sum_k P_nk Sum_r dO_nr V_kr -> Sum_r dO_nr Sum_k P_nk V_kr (collect by dO_nr when written out)."""
    if not sizes.is_symbolic:
        return sp.collect(sp.expand(expr), sorted(expr.atoms(sp.Indexed) & {dO[a, c] for a in range(1, sizes.queries + 1)
                                                  for c in range(1, sizes.head + 1)}, key=str))
    (outer_var, *outer_range), = expr.limits
    outer, inner = expr.function.as_independent(sp.Sum)
    (inner_var, *inner_range), = inner.limits
    # What does not depend on the outer dummy (dO_nr) leaves the new inner sum over it.
    free, bound = inner.function.as_independent(outer_var)
    return sp.Sum(free * sp.Sum(outer * bound, (outer_var, *outer_range)), (inner_var, *inner_range))


def _forms(keys, queries, head) -> dict:
    """The matrix forms, as SymPy matrix expressions: name -> (lhs, rhs)."""
    mat = {name: sp.MatrixSymbol(name, *shape) for name, shape in (
        ("Q", (queries, head)), ("Kmat", (keys, head)), ("V", (keys, head)), ("P", (queries, keys)),
        ("O", (queries, head)), ("dO", (queries, head)), ("dP", (queries, keys)), ("dS", (queries, keys)),
        ("S", (queries, keys)))}
    scale = 1 / sp.sqrt(head)
    rowsum_P = sp.HadamardProduct(mat["dP"], mat["P"]) * sp.OneMatrix(keys, 1)
    rowsum_O = sp.HadamardProduct(mat["dO"], mat["O"]) * sp.OneMatrix(head, 1)
    gradient = lambda name: sp.Derivative(L, mat[name], evaluate=False)
    return {"V": (gradient("V"), mat["P"].T * mat["dO"]),
            "P": (gradient("P"), mat["dO"] * mat["V"].T),
            "rowsum": (rowsum_P, rowsum_O),
            "S": (gradient("S"), sp.HadamardProduct(mat["P"], mat["dP"] - rowsum_O * sp.OneMatrix(1, keys))),
            "Q": (gradient("Q"), scale * mat["dS"] * mat["Kmat"]),
            "K": (gradient("Kmat"), scale * mat["dS"].T * mat["Q"])}


NOTES = {"V": "entry (j, d) of P^T dO", "P": "entry (n, j) of dO V^T",
         "rowsum": "row n of rowsum(dP * P) = rowsum(dO * O): a kernel keeps O, never P",
         "S": "entry (n, j) of P * (dP - rowsum(dO * O) 1^T)", "Q": "entry (n, d) of dS K / sqrt(D)",
         "K": "entry (j, d) of dS^T Q / sqrt(D)"}


def _entry_checker(form, entry, checks) -> bool:
    """SymPy writes the form out at small sizes and compares every entry with the derived entry."""
    from sympy.matrices.expressions.matexpr import MatrixElement
    for keys, queries, head in checks:
        sized = {K: keys, N: queries, D: head}
        made = sp.Matrix(form.xreplace(sized).as_explicit()).applyfunc(
            lambda e: e.replace(lambda t: isinstance(t, MatrixElement),
                                lambda t: sp.IndexedBase(t.parent.name)[t.i + 1, t.j + 1]))
        for a in range(made.rows):
            for b in range(made.cols):
                value = entry(a + 1, b + 1, sized)
                if sp.expand(made[a, b] - value) != 0:
                    return False
    return True


def _build(keys, queries, head) -> Derivation:
    sizes = _Sizes(keys, queries, head)
    forward = [Chain(sizes.matrix(lambda a, b: base[a, b], *shape, *at), sizes.matrix(sizes.definition[base], *shape, *at),
                     f"definition of {base}", rule=Rule.DEFINITION, facts=(f"attention-definition-{base}",))
               for base, shape, at in ((S, (queries, keys), (n, j)), (P, (queries, keys), (n, j)),
                                       (O, (queries, head), (n, d)))]
    chains = {
        "V": _gradient(sizes, V, O, (keys, head), (j, d), ((m, queries), (r, head)), note="chain rule through every O_mr",
                       name="V"),
        "P": _gradient(sizes, P, O, (queries, keys), (n, j), ((m, queries), (r, head)),
                       note="chain rule through every O_mr", name="P"),
    }
    dP_result = chains["P"].current
    dP_entry = _entry_of(dP_result, sizes)
    chains["rowsum"], identity = _rowsum_identity(sizes, dP_entry)
    chains["S"] = _softmax_backward(sizes, identity)
    chains["Q"] = _gradient(sizes, Q, S, (queries, head), (n, d), ((m, queries), (k, keys)),
                           note="chain rule through every S_mk", name="Q")
    chains["K"] = _gradient(sizes, Kmat, S, (keys, head), (j, d), ((m, queries), (k, keys)), note="chain rule through every S_mk",
                           name="K")
    forms = _forms(keys, queries, head)
    _confirm_forms(sizes, chains, forms)
    entries = {name: chain.current for name, chain in chains.items()}
    steps = [step for chain in forward for step in chain.steps]
    for name, chain in chains.items():
        lhs, rhs = forms[name]
        chain.add(Step(lhs=lhs, rhs=rhs, rule=Rule.VECTOR_FORM if name == "rowsum" else Rule.MATRIX_FORM,
                       note=NOTES[name], facts=(f"attention-form-{name}",)))
        steps += chain.steps
    backward = {"dS": (dS, _entry_of(entries["S"], sizes)), "dP": (dP, dP_entry)}
    return Derivation(name=NAME, title=TITLE, K=None if sizes.is_symbolic else keys, symbols=SYMBOLS,
                      assumptions=(RANGES,) if sizes.is_symbolic else (), steps=tuple(steps),
                      result=entries["S"], result_lhs=chains["S"].lhs,
                      definitions=((L, loss_stand_in(queries=queries, head=head)),),
                      results=tuple((name, chains[name].lhs, entries[name]) for name in chains),
                      semantics=semantics(keys=None if sizes.is_symbolic else keys,
                                          queries=None if sizes.is_symbolic else queries,
                                          head=None if sizes.is_symbolic else head, backward=backward,
                                          prove=sizes.is_symbolic or keys * queries * head <= MAX_PROVED_ENTRIES),
                      shapes=SHAPES, sizes=(("D", None if sizes.is_symbolic else head),
                                            ("N", None if sizes.is_symbolic else queries)))


def _entry_of(result, sizes: _Sizes):
    if sizes.is_symbolic:
        return lambda a, b: result.xreplace({n: a, j: b})
    return lambda a, b: result[int(a) - 1, int(b) - 1]


def _confirm_forms(sizes: _Sizes, chains: dict, forms: dict) -> None:
    """Each matrix form is what SymPy makes of the derived entries (written out at small sizes)."""
    at = {"V": (j, d), "P": (n, j), "S": (n, j), "Q": (n, d), "K": (j, d)}
    checks = ((2, 2, 2), (3, 2, 1)) if sizes.is_symbolic else ((sizes.keys, sizes.queries, sizes.head),)
    for name, (row, col) in at.items():
        result = chains[name].current
        if sizes.is_symbolic:
            entry = lambda a, b, sized, result=result, row=row, col=col: result.xreplace({**sized, row: a, col: b}).doit()
        else:
            entry = lambda a, b, _sized, result=result: result[a - 1, b - 1]
        form = forms[name][1]
        require(_entry_checker(form, entry, checks), NOTES[name])


def build_symbolic() -> Derivation:
    return _build(K, N, D)


def build_concrete(n_keys: int, D: int, N: int) -> Derivation:
    check_concrete_sizes(NAME, keys=n_keys, queries=N, head=D)
    return _build(n_keys, N, D)
