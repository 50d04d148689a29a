"""Index analysis: which index symbols stand free, which are summed over, and renaming summation indices."""
from __future__ import annotations

from typing import Callable

import sympy as sp

from .nodes import atoms_of

SIZES = frozenset({"K", "D", "N"})  # integer symbols that are sizes, never indices


def free_indices(expr: sp.Basic) -> set:
    """Index symbols that stand free (not bound by a sum), including those in derivative variables."""
    if isinstance(expr, sp.Sum):
        return free_indices(expr.function) - {limit[0] for limit in expr.limits}
    if isinstance(expr, sp.Indexed):
        return set().union(*(free_indices(ix) for ix in expr.indices))  # sigma_K: K is a size, not an index
    if isinstance(expr, sp.Symbol):
        return {expr} if expr.is_integer and expr.name not in SIZES else set()
    out: set = set()
    for arg in expr.args:
        if isinstance(arg, (sp.Basic,)):
            out |= free_indices(arg)
    return out


def summed_indices(expr: sp.Basic) -> set:
    return {limit[0] for s in atoms_of(expr, sp.Sum) for limit in s.limits}  # the sums found when it was read


def rename_sum_indices(expr: sp.Basic, renaming: Callable[[sp.Sum], dict]) -> sp.Basic:
    """Every Sum of expr with its dummies renamed as `renaming(summation)` says ({old: new}; {} keeps it).

    The one place summation indices are renamed; the callers differ only in the names they choose:
    away from a free index (sympy#21891), to one canonical letter, or to fresh Dummies."""
    def rename(summation: sp.Sum) -> sp.Sum:
        mapping = renaming(summation)
        if not mapping or any(_would_capture(summation.function, old, new) for old, new in mapping.items()):
            return summation
        return summation.xreplace(mapping)
    return expr.replace(lambda e: isinstance(e, sp.Sum), rename)


def _would_capture(body: sp.Basic, old: sp.Symbol, new: sp.Symbol) -> bool:
    """Whether renaming `old` to `new` in `body` puts it inside an inner sum over `new`, which would
    bind it there (Sum_r b_r Sum_k a_kr -> Sum_k b_k Sum_k a_kk: a different number)."""
    return any(old in inner.function.free_symbols for inner in body.atoms(sp.Sum) if new in inner.variables)
