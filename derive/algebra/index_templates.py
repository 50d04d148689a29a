"""SymPy work done once per *shape* of an indexed expression, then reused for every index.

At a concrete K most entries are K copies of a few shapes: the diagonal of the softmax Jacobian is
sigma_r (1 - sigma_r) for every r. Renaming the integer indices of an expression to placeholders
gives its template (z_3 y_3 -> z_p0 y_p0); a derivative or a proof is done on the template once,
and the instances reuse it. This is what turns K^2 small SymPy jobs into a handful.

Why it is sound: the renaming maps distinct atoms (z_3, y_3, W_{3,5}) to distinct atoms (z_p0,
y_p0, W_{p0,p1}), so an instance is its template with the placeholders specialised back. An
identity proved for the template holds for every value of its atoms, hence for the instance; a
derivative commutes with renaming the variable together with the expression. Both need an
expression whose meaning lies in its atoms: a symbol that stands for something indexed (S for
e^{z_1} + ... + e^{z_K}) may appear only as an independent variable (direct partial derivatives,
identities in S), never be differentiated through.
"""
from __future__ import annotations

from functools import cmp_to_key, lru_cache
from typing import Callable

import sympy as sp


@lru_cache(maxsize=None)
def placeholder(position: int) -> sp.Symbol:
    """The position-th placeholder index; a name no derivation uses."""
    return sp.Symbol(f"p_{{{position}}}", integer=True, positive=True)


def template(*exprs: sp.Basic) -> tuple:
    """(the expressions with every integer index renamed to a placeholder, {placeholder: index}).

    Indices are numbered by value, so the same relative order of indices gives the same template
    (sigma_2 sigma_5 and sigma_3 sigma_9 share one; sigma_5 sigma_2 has its own)."""
    atoms = set().union(*(e.atoms(sp.Indexed) for e in exprs))
    values = sorted({int(ix) for atom in atoms for ix in atom.indices if ix.is_Integer})
    if not values:
        return exprs, {}
    # Back by index, not by atom: a result may hold atoms the input did not (e^{z_p0} -> sigma_p0 S).
    back = placeholders_back(values)
    to_placeholder = {value: p for p, value in back.items()}
    memo: dict = {}
    return tuple(_rebuild(e, to_placeholder, memo, leaves_too=False) for e in exprs), back


def signature(*exprs: sp.Basic) -> tuple:
    """(key, index values): keys are equal exactly when template() would give equal templates,
    and the key is a walk building tuples, not SymPy trees (a third of the cost), so caches look
    it up first and build the template only on a miss. Index values come out sorted: value n is
    placeholder n's."""
    slots: list = []
    shape = tuple(_shape(e, slots) for e in exprs)
    values = sorted(set(slots))
    rank = {value: n for n, value in enumerate(values)}
    return (shape, tuple(rank[value] for value in slots)), values


def _shape(node, slots: list):
    """The tree with each integer index cut out into `slots` (in walk order)."""
    if isinstance(node, sp.Indexed):
        cut = []
        for ix in node.indices:
            if ix.is_Integer:
                slots.append(int(ix))
                cut.append(None)
            else:
                cut.append(ix)
        return (node.base, *cut)
    if not node.args:
        return node
    return (node.func, *(_shape(arg, slots) for arg in node.args))


def placeholders_back(values: list) -> dict:
    """{placeholder n: the n-th index value}, the map that instantiates a template."""
    return {placeholder(n): sp.Integer(value) for n, value in enumerate(values)}


_CANONICAL = cmp_to_key(sp.Basic.compare)  # the order Add and Mul sort their terms and factors in


def instantiate(expr: sp.Basic, back: dict) -> sp.Basic:
    """expr.xreplace(back) for placeholders -> integer indices (see _rebuild); a placeholder
    outside an index (a delta's argument, a bound) could evaluate differently once it is a
    number, so such an expression goes through xreplace."""
    try:
        return _rebuild(expr, back, {}, leaves_too=True)
    except _NotAnIndex:
        return expr.xreplace(back)


class _NotAnIndex(Exception):
    pass


def _rebuild(node, indices: dict, memo: dict, *, leaves_too: bool):
    """node with every Indexed's indices mapped through `indices`, without SymPy re-deriving what
    cannot change.

    The mapping is injective (distinct indices stay distinct) and an Indexed's assumptions come
    from its base, not its index, so Add and Mul combine, and Pow and functions evaluate, exactly
    as before; only the canonical order of terms and factors can change, and it is restored by
    sorting as Add and Mul do. So sums and products are assembled with _from_args, powers and
    functions without re-evaluation: the same objects xreplace builds, for less than half the
    cost (tests/test_concrete.py compares them). leaves_too: a mapped value met outside an index
    raises _NotAnIndex (it is a placeholder; an integer such as an exponent is left alone)."""
    if node in memo:
        return memo[node]
    if not node.args:
        if leaves_too and node in indices:
            raise _NotAnIndex(node)
        result = node
    elif isinstance(node, sp.Indexed):
        result = _indexed(node.base, tuple(indices.get(ix, ix) for ix in node.indices))
    else:
        args = tuple(_rebuild(arg, indices, memo, leaves_too=leaves_too) for arg in node.args)
        if all(new is old for new, old in zip(args, node.args)):
            result = node
        elif (node.is_Add or node.is_Mul) and node.is_commutative:
            head = args[:1] if args[0].is_Number else ()
            result = node.func._from_args((*head, *sorted(args[len(head):], key=_CANONICAL)), True)
        elif node.is_Pow or isinstance(node, sp.Function):
            result = node.func(*args, evaluate=False)
        else:
            result = node.func(*args)
    memo[node] = result
    return result


@lru_cache(maxsize=1 << 16)
def _indexed(base, indices):
    return base[indices]


class PerTemplate:
    """`fn(*exprs)` computed once per template and instantiated for every call with that shape."""

    def __init__(self, fn: Callable[..., sp.Basic]):
        self.fn = fn
        self.cache: dict = {}

    def __call__(self, *exprs: sp.Basic) -> sp.Basic:
        key, values = signature(*exprs)
        if key not in self.cache:
            renamed, _back = template(*exprs)
            self.cache[key] = self.fn(*renamed)
        result = self.cache[key]
        return instantiate(result, placeholders_back(values)) if values else result


differentiate = PerTemplate(sp.diff)
"""sp.diff(f, x), once per template: d(y_r z_r)/d z_r is SymPy's d(y_p0 z_p0)/d z_p0, renamed."""
