"""What an answer is compared with: a registry derivation's result, read generically.

Why generic: new derivations added to the engine registry become `--target`s without changes
here; everything is read from the Derivation (result, result_lhs, definitions, assumptions).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .. import engine
from ..parse.parser import free_indices

SIMPLEX_ASSUMPTION = "targets-sum-to-one"
DERIVED = frozenset({"sigma"})  # arrays computed from z at every point (never drawn at random)


@dataclass(frozen=True)
class Target:
    """One derivation as a checking target."""

    name: str
    title: str
    lhs: sp.Basic  # e.g. Derivative(sigma[i], z[j])
    result: sp.Basic  # e.g. sigma[i] (delta_ij - sigma_j), in sigma, z, y
    free: tuple  # free index symbols, sorted by name: (i, j)
    definitions: tuple  # ((L, -Sum_k y_k log sigma_k),)
    simplex: bool  # targets y lie on the simplex (sum to one)
    arrays: tuple  # names of the input arrays the result reads, besides sigma (z, y, g, x, ...)

    def substitute(self, expr: sp.Basic) -> sp.Basic:
        """Replace defined symbols (L) by their definitions, so the evaluator can compute them."""
        if not self.definitions:
            return expr
        return expr.xreplace({symbol: _fresh_dummies(value) for symbol, value in self.definitions})


@functools.lru_cache(maxsize=None)
def get(name: str) -> Target:
    """The target for a registry name (UsageError for unknown names, listing the known ones)."""
    derivation = engine.build(name, None)
    free = tuple(sorted(free_indices(derivation.result_lhs) | free_indices(derivation.result), key=str))
    assumptions = {a.id for a in derivation.assumptions}
    names = {b.name for b in _bases(derivation.result)} | {b.name for b in _bases(derivation.result_lhs)}
    for _symbol, definition in derivation.definitions:
        names |= {b.name for b in _bases(definition)}
    arrays = tuple(sorted((names - DERIVED) | {"z"}))
    return Target(name=name, title=derivation.title, lhs=derivation.result_lhs, result=derivation.result,
                  free=free, definitions=tuple(derivation.definitions), simplex=SIMPLEX_ASSUMPTION in assumptions,
                  arrays=arrays)


def _fresh_dummies(expr: sp.Basic) -> sp.Basic:
    """Rename summation dummies to unique ones: substituted under a sum over k, or differentiated
    with respect to sigma_k, the definition's own k must not capture the student's k."""
    def rename(summation):
        (var, lo, hi), = summation.limits
        fresh = sp.Dummy(str(var), integer=True, positive=True)
        return sp.Sum(summation.function.xreplace({var: fresh}), (fresh, lo, hi))
    return expr.replace(lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1, rename)


def _bases(expr: sp.Basic) -> set:
    return {ix.base for ix in expr.atoms(sp.Indexed)} | set(expr.atoms(sp.MatrixSymbol))


def all_targets() -> tuple:
    return tuple(get(name) for name in engine.names())
