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

from functools import lru_cache
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
    to_placeholder = {value: placeholder(n) for n, value in enumerate(values)}
    rename = {atom: atom.base[tuple(to_placeholder[int(ix)] if ix.is_Integer else ix for ix in atom.indices)]
              for atom in atoms}
    # Back by index, not by atom: a result may hold atoms the input did not (e^{z_p0} -> sigma_p0 S).
    back = {p: sp.Integer(value) for value, p in to_placeholder.items()}
    return tuple(e.xreplace(rename) for e in exprs), back


class PerTemplate:
    """`fn(*exprs)` computed once per template and instantiated for every call with that shape."""

    def __init__(self, fn: Callable[..., sp.Basic]):
        self.fn = fn
        self.cache: dict = {}

    def __call__(self, *exprs: sp.Basic) -> sp.Basic:
        renamed, back = template(*exprs)
        if renamed not in self.cache:
            self.cache[renamed] = self.fn(*renamed)
        result = self.cache[renamed]
        return result.xreplace(back) if back else result


differentiate = PerTemplate(sp.diff)
"""sp.diff(f, x), once per template: d(y_r z_r)/d z_r is SymPy's d(y_p0 z_p0)/d z_p0, renamed."""
