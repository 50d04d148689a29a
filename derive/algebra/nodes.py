"""The nodes of an expression by kind, found in one walk and remembered per expression.

Why: checking an answer asks its tree several questions that each walked all of it (which sums it holds,
when it is read and when its reading is described; whether it uses a letter the target has no meaning
for); the answers are the same for an expression every time, so one walk serves all of them.
"""
from __future__ import annotations

import functools

import sympy as sp
from sympy.utilities.iterables import iterable

EXPRESSIONS_KEPT = 256  # a check asks about its own few expressions, one after another


def atoms_of(expr, *kinds: type) -> set:
    """expr.atoms(*kinds): every node that is an instance of one of `kinds` (a mutable matrix, which
    cannot be a key, is walked each time, entry by entry)."""
    if not isinstance(expr, sp.Basic):
        return {node for node in sp.preorder_traversal(expr) if isinstance(node, kinds)}
    return {node for kind, nodes in _nodes_by_kind(expr).items() if issubclass(kind, kinds) for node in nodes}


@functools.lru_cache(maxsize=EXPRESSIONS_KEPT)
def _nodes_by_kind(expr: sp.Basic) -> dict:
    """{type: set of the nodes of exactly that type}: every node the walk of expr.atoms meets (a node's
    args, an iterable's items), in any order. Callers only read the sets."""
    found: dict = {}
    pending = [expr]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind in found:
            found[kind].add(node)
        else:
            found[kind] = {node}
        if isinstance(node, sp.Basic):
            pending.extend(node.args)
        elif iterable(node):
            pending.extend(node)
    return found
