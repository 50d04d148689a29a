"""Put a read answer in the target's indices: the bijection from its left side, and the case it is stated for.

Why after parsing: the left side's indices (d p_j / d o_i) are only known once it is parsed; the
answer is then renamed into the target's letters (summation dummies moved out of the way first)
and a line stated for a case (i = j, one entry d a_1 / d z_2) is compared in that case only.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .. import symbols
from ..algebra.indices import free_indices, rename_sum_indices
from ..errors import ParseError
from ..parse.build import index_symbol
from ..parse.matrices import GeneralMatrix
from .spellings import TRUE_CLASS
from .equivalence import entry_order, free_indices_once
from .points import RANDOM_KS, READABLE, semantic_sizes

# The K at which every answer is compared: a written-out answer (z_1 .. z_3) is judged at its own K.
CHECKED_KS = frozenset(RANDOM_KS) | {len(sigma) for sigma, _y in READABLE}


@dataclass(frozen=True)
class Aligned:
    """The chain in the target's indices, what each answer index stands for, and a case the left side fixes."""

    chain: list
    mapping: dict  # answer index -> target index
    indices: dict  # answer letter -> meaning ("row index", ...)
    guessed: tuple
    case: sp.Basic | None  # Eq(i, j) when the left side repeats an index (d s_i / d z_i), or names one entry


def align(chain: list, goal) -> Aligned:
    """Map the answer's free indices onto the target's (a bijection) and rename them throughout."""
    chain = [(line, sums_over_classes(expr, goal)) for line, expr in chain]
    exprs = [expr for _line, expr in chain]
    used = set().union(*(free_indices_once(e) for e in exprs)) if exprs else set()
    mapping, guessed, case = _index_mapping(exprs, used, goal)
    meaning = index_meanings(goal)
    indices = {str(a): meaning.get(b, "index") for a, b in mapping.items()}
    for symbol in used - set(mapping):
        indices[str(symbol)] = meaning.get(symbol, "index")
    indices = dict(sorted(indices.items(), key=lambda item: (not item[1].startswith("row"), item[0])))  # rows first
    if any(a != b for a, b in mapping.items()):
        chain = [(line, _rename(expr, mapping)) for line, expr in chain]
    return Aligned(chain, mapping, indices, guessed, case)


def sums_over_classes(expr: sp.Basic, goal) -> sp.Basic:
    """A sum over n (or d) runs to N (or D) only in a target that has that size (batched: N examples);
    elsewhere n is just the author's summation letter, and the sum runs over the K classes. A sum
    written to N or D (\\sum_{k=1}^{N}) says that size: it stays, and a question without it cannot
    judge the answer (UnknownSize: undecided), rather than reading N as K and proving it."""
    sizes, _uppers = semantic_sizes(goal.semantics, min(CHECKED_KS))
    missing = {size: symbols.K for size in (symbols.D, symbols.N) if size not in sizes}
    if not missing or not isinstance(expr, sp.Basic) or not expr.has(*missing):  # a sum to N holds N
        return expr
    implicit = {symbols.n: symbols.N, symbols.d: symbols.D}  # the upper limit the letter itself gave
    def over_classes(summation) -> bool:
        return isinstance(summation, sp.Sum) and any(
            high in missing and implicit.get(x) == high for x, _low, high in summation.limits)
    return expr.replace(over_classes, lambda s: sp.Sum(s.function, *(
        (x, low, high.xreplace(missing) if implicit.get(x) == high else high) for x, low, high in s.limits)))


def _index_mapping(exprs: list, used: set, goal) -> tuple:
    target = _target_indices(goal.lhs)
    entry = _concrete_entry(exprs[0]) if exprs else None
    if entry is not None:
        return {}, (), _concrete_case(exprs, goal, entry)
    if exprs and isinstance(exprs[0], sp.Derivative) and target is not None:
        mine = _derivative_indices(exprs[0])
        if mine is not None and len(mine) == len(target):
            if len(set(mine)) < len(set(target)) and len(target) == 2:  # d s_i / d z_i: the diagonal case
                return {mine[0]: target[0]}, (), sp.Eq(*target)
            if len(set(mine)) == len(mine):
                return dict(zip(mine, target)), (), None
    second = _second_derivative_indices(exprs[0]) if exprs else None
    if second is not None and isinstance(goal.lhs, sp.Indexed) and len(goal.lhs.indices) == 2 == len(goal.free):
        rows_cols = tuple(goal.lhs.indices)  # H_{ij}: by z_i, then by z_j
        if second[0] == second[1]:  # \partial z_k^2: the diagonal case
            return {second[0]: rows_cols[0]}, (), sp.Eq(*rows_cols)
        return dict(zip(second, rows_cols)), (), None
    free = tuple(goal.free)
    if len(used) == len(free) and used != set(free) and len(free) in (1, 2):
        ordered = sorted(used, key=str)
        return dict(zip(ordered, free)), tuple(str(s) for s in ordered) if len(free) == 2 else (), None
    return {s: s for s in used if s in free}, (), None


def _second_derivative_indices(expr) -> tuple | None:
    """(a, b) of a second derivative by z_a and z_b (\\frac{\\partial^2 f}{\\partial z_a \\partial z_b}); None otherwise."""
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 2:
        return None
    out = tuple(v.indices[0] for v in expr.variables if isinstance(v, sp.Indexed) and len(v.indices) == 1)
    return out if len(out) == 2 and all(ix.is_Symbol for ix in out) else None


@functools.lru_cache(maxsize=64)
def _target_indices(lhs: sp.Basic) -> tuple | None:
    """_derivative_indices of a target's left side, once per target: SymPy works out a Derivative's
    variables anew at each call (half of aligning an answer), and every answer meets the same targets."""
    return _derivative_indices(lhs)


def _derivative_indices(expr) -> tuple | None:
    """(output index..., variable index...) of d f_a / d x_b, in that order; None if not of that shape."""
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 1:
        return None
    body, variable = expr.expr, expr.variables[0]
    if isinstance(body, sp.Indexed):
        out = tuple(ix for ix in body.indices if ix.is_Symbol)
    else:  # log sigma_k, e^{a_j} / sum_k e^{a_k}: the indices that stand free in it
        out = tuple(sorted(free_indices(body), key=str))
    var = tuple(ix for ix in getattr(variable, "indices", ()) if ix.is_Symbol)
    return out + var if var else None


def _concrete_entry(expr) -> tuple | None:
    """The class numbers of a left side that names one entry (d a_1 / d z_2, d log a_1 / d z_2, d L / d z_1),
    output's first, or None: every index in it is a number."""
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 1:
        return None
    body, variable = expr.expr, expr.variables[0]
    if not isinstance(variable, sp.Indexed):
        return None
    outputs = sorted(body.atoms(sp.Indexed), key=str)
    if len(outputs) > 1:
        return None  # e^{z_1} / (e^{z_1} + e^{z_2}) under the derivative: not one named entry
    numbers = tuple(ix for node in outputs for ix in node.indices) + tuple(variable.indices)
    return numbers if numbers and all(n.is_Integer for n in numbers) else None


def _concrete_case(chain_exprs: list, goal, entry: tuple) -> sp.Basic:
    """The case a concrete left side states: its entry, and the K that written-out softmax outputs
    (e^{z_1} / (e^{z_1} + e^{z_2}): K = 2) imply. Without those the entry is judged at every K."""
    target = _target_indices(goal.lhs)
    if target is None or len(target) != len(entry):
        raise ParseError("a left side with class numbers is read only where it names one entry of the question")
    beyond = max(int(number) for number in entry)
    reached = max(goal.semantics.Ks) if goal.semantics is not None and goal.semantics.Ks else max(RANDOM_KS)
    if beyond > reached:  # no test point has that many classes: the entry would be compared nowhere
        raise ParseError(f"the left side names class {beyond}, beyond the {reached} classes the check "
                         f"reaches; write the answer for general indices")
    condition = sp.And(*(sp.Eq(index, number) for index, number in zip(target, entry)))
    written_softmax = any(isinstance(node.args[0], sp.Indexed) for e in chain_exprs for node in e.atoms(sp.exp))
    if any(e.has(sp.Sum) for e in chain_exprs) or not written_softmax:
        return condition
    written = max(int(n) for e in chain_exprs for ix in e.atoms(sp.Indexed) for n in ix.indices if n.is_Integer)
    if written not in CHECKED_KS:
        raise ParseError(f"the answer writes out {written} classes; written-out answers are read for K in "
                         f"{min(CHECKED_KS)}..{max(CHECKED_KS)}")
    return sp.And(condition, sp.Eq(symbols.K, written))


def index_meanings(goal) -> dict:
    """What each target index stands for: the row and column of a Jacobian, or the gradient's entry."""
    return dict(_meanings(goal.lhs))


@functools.lru_cache(maxsize=64)
def _meanings(lhs: sp.Basic) -> dict:
    """index_meanings, once per target's left side (see _target_indices); callers get a copy."""
    target = _target_indices(lhs) or ()
    if isinstance(lhs, sp.Indexed) and len(lhs.indices) == 2:  # H_{ij}
        return {lhs.indices[0]: "row index", lhs.indices[1]: "column index"}
    if len(target) == 2 and not isinstance(lhs.variables[0], sp.Indexed) or len(target) == 2 and \
            len(lhs.variables[0].indices) == 2:
        return {target[0]: "row index", target[1]: "column index"}
    if len(target) == 2:
        return {target[0]: "row index (output)", target[1]: "column index (logit)"}
    return {s: "entry index" for s in target}


def _rename(expr: sp.Basic, mapping: dict) -> sp.Basic:
    """Simultaneous renaming of free indices; summation dummies first moved out of the way."""
    taken = set(mapping.values()) | set(mapping)
    def away(summation: sp.Sum) -> dict:
        out = {}
        for limit in summation.limits:
            if limit[0] in taken:
                out[limit[0]] = _fresh(taken | set(out.values()) | summation.free_symbols)
        return out
    return rename_sum_indices(expr, away).xreplace(mapping)


def _fresh(avoid: set) -> sp.Symbol:
    for letter in "klmrqabcfhuv":
        candidate = index_symbol(letter)
        if candidate not in avoid:
            return candidate
    return sp.Dummy("k", integer=True, positive=True)


def restricted(expr: sp.Basic, condition: sp.Basic, goal) -> sp.Basic:
    """A claim made only where `condition` holds: elsewhere it is taken to be the target itself,
    so the comparison judges exactly the stated case."""
    return sp.Piecewise((expr, condition), (goal.result, True))


def condition_expr(condition: tuple, mapping: dict) -> sp.Basic:
    """Eq(i, j) or Ne(i, j) for a condition read in the answer's letters, in the target's letters."""
    a, equal, b = condition
    if b == TRUE_CLASS:  # i is (or, otherwise, is not) the true class: its one-hot target is 1 (or 0)
        return sp.Eq(symbols.y[mapping.get(index_symbol(a), index_symbol(a))], 1 if equal else 0)
    left, right = (mapping.get(index_symbol(x), index_symbol(x)) for x in (a, b))
    return sp.Eq(left, right) if equal else sp.Ne(left, right)


def explicit_entries(expr: sp.Basic, goal) -> sp.Basic:
    """An explicit matrix or vector as the target's entry: entry (r, c) where the target's indices are
    (r, c) and K is its size, the target itself elsewhere (so only the entries shown are judged)."""
    if isinstance(expr, GeneralMatrix):
        return _general_entries(expr, goal)
    if not isinstance(expr, sp.MatrixBase):
        return expr
    order = entry_order(goal)
    rows, cols = expr.shape
    if len(order) == 2 and rows == cols:
        size, cells = rows, [((r + 1, c + 1), expr[r, c]) for r in range(rows) for c in range(cols)]
    elif len(order) == 1 and 1 in (rows, cols):
        size, cells = rows * cols, [((n + 1,), entry) for n, entry in enumerate(expr)]
    else:
        raise ParseError(f"a {rows}x{cols} matrix does not have the shape of the result of {goal.name}")
    if size not in CHECKED_KS:
        raise ParseError(f"explicit matrices are read for K in {min(CHECKED_KS)}..{max(CHECKED_KS)}, not {size}")
    pieces = [(entry, sp.And(sp.Eq(symbols.K, size), *(sp.Eq(ix, n) for ix, n in zip(order, where))))
              for where, entry in cells]
    return sp.Piecewise(*pieces, (goal.result, True))


def _general_entries(shown: GeneralMatrix, goal) -> sp.Basic:
    """A general-K matrix (with dots) as the target's entry: each entry shown at its position (1, 2, ...,
    K - 1, K) for every K at which the shown positions are distinct, the target itself elsewhere."""
    order = entry_order(goal)
    if len(order) != (1 if shown.is_vector else 2):
        raise ParseError(f"a {'vector' if shown.is_vector else 'matrix'} does not have the shape of the result of "
                         f"{goal.name}")
    rows, cols = shown.least_size
    large_enough = sp.Ge(symbols.K, max(rows, cols))
    pieces = [(entry, sp.And(large_enough, *(sp.Eq(ix, at) for ix, at in zip(order, (row, col)))))
              for row, col, entry in shown.cells]
    return sp.Piecewise(*pieces, (goal.result, True))
