"""What a backward function must compute for a target: its parts, its upstream gradient, the entry to prove.

Why derived from the registry target: a function that takes an upstream gradient g computes the
vector-Jacobian product sum_i g_i dsigma_i/dz_j, and a loss's backward multiplies by dL/dloss; both
are built from the derivation's own result, so every registry derivation is a code target too.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from .. import symbols
from ..check import target as targets
from ..check.target import CheckTarget
from .signature import LABEL_BASE, UPSTREAM_SCALAR

PER_EXAMPLE_BASES = ("z", "sigma", "y", "g")


@dataclass(frozen=True)
class Part:
    """One gradient a function returns: with respect to which input (role), and the target entry."""

    target: CheckTarget
    role: str  # logits | W | b | x


def parts(name: str) -> tuple:
    goal = targets.get(name)
    base, _, part = name.partition(":")
    if base in targets.PARTS:
        chosen = (part,) if part else targets.PARTS[base]
        return tuple(Part(targets.get(f"{base}:{p}"), p) for p in chosen)
    return (Part(goal, "logits"),)


def upstream_shape(goal: CheckTarget, batched: bool) -> tuple | None:
    """The shape of the upstream gradient a backward takes: the forward output's, or () for a loss."""
    rows = (symbols.N,) if batched else ()
    if "g" in goal.arrays:
        return rows + (symbols.K,)  # the target's own input (softmax-vjp), not a contraction
    if is_jacobian(goal):
        return rows + (symbols.K,)
    if isinstance(goal.lhs, sp.Derivative):
        return ()
    return None


def is_jacobian(goal: CheckTarget) -> bool:
    lhs = goal.lhs
    return (isinstance(lhs, sp.Derivative) and len(goal.free) == 2 and not isinstance(lhs.expr, sp.Symbol)
            and "W" not in goal.arrays)


def probe(goal: CheckTarget, *, with_upstream: bool) -> CheckTarget:
    """The target the code's entry is compared with: the VJP or the scaled gradient when it takes an upstream."""
    if not with_upstream or "g" in goal.arrays:
        return goal
    if is_jacobian(goal):
        i, j = goal.free
        row = sp.Symbol("_u", integer=True, positive=True)
        result = sp.Sum(symbols.g[row] * goal.result.xreplace({i: row}), (row, 1, symbols.K))
        return replace(goal, name=f"{goal.name} (vector-Jacobian product)", result=result, free=(j,),
                       lhs=sp.Derivative(symbols.L, symbols.z[j]), arrays=tuple(sorted(set(goal.arrays) | {"g"})))
    return replace(goal, name=f"{goal.name} (times the upstream gradient)", result=UPSTREAM_SCALAR[1] * goal.result,
                   arrays=tuple(sorted(set(goal.arrays) | {"c"})))


def is_batch_target(goal: CheckTarget) -> bool:
    """A target over a batch of examples (rows of X, Y), not per example."""
    return "Y" in goal.arrays


def is_linear(goal: CheckTarget) -> bool:
    """A target through a linear layer z = W x + b (whose code may have no bias)."""
    return bool({"W", "X", "x"} & set(goal.arrays))


def without_bias(goal: CheckTarget) -> CheckTarget:
    """For code with no bias parameter (scores = X W): the result written out through the layers, b = 0."""
    result = goal.result
    for _bases, substitute in goal.semantics.layers:
        result = substitute(result, None)
    return replace(goal, name=f"{goal.name} (no bias)", result=result.xreplace(
        {e: sp.Integer(0) for e in result.atoms(sp.Indexed) if e.base == symbols.b}))


class RowsMixed(Exception):
    """A batched result whose row n reads other rows (a sum over the batch axis)."""


def per_row(expr: sp.Expr, row: sp.Symbol) -> tuple:
    """Row `row` of a batched entry as a per-example formula: z[n, k] -> z[k]; (expr, 'mean' note or '')."""
    def single(e):
        return isinstance(e, sp.Indexed) and e.base.name in PER_EXAMPLE_BASES and len(e.indices) == 2
    mixed = [e for e in expr.atoms(sp.Indexed) if single(e) and e.indices[0] != row]
    if mixed:
        raise RowsMixed(str(mixed[0]))
    out = expr.replace(single, lambda e: e.base[e.indices[1]])
    if out.has(symbols.N):
        scaled = sp.expand(out * symbols.N)
        if not scaled.has(symbols.N):
            return scaled, "read as the gradient of the batch mean (divided by N)"
        raise RowsMixed("N")  # N other than as one overall 1/N: not a per-example formula
    return out, ""


def mixed_message(error: RowsMixed) -> tuple:
    """(what is wrong, whether it is the wrong axis) for a batched entry that is not per example."""
    if str(error) == "N":
        return "row n depends on the batch size N other than through one overall 1/N (the batch mean)", False
    return "row n of the result reads other rows of the batch", True


def labels_to_targets(expr: sp.Expr, goal: CheckTarget) -> sp.Expr:
    """delta(class, label) is the one-hot target: y[class] (Y[n, class] for a batch)."""
    batch_base = symbols.Y if "Y" in goal.arrays else None
    def is_label(e):
        return (isinstance(e, sp.Indexed) and e.base == LABEL_BASE) or (isinstance(e, sp.Symbol) and e.name == "label")
    def convert(delta):
        a, b = delta.args
        label, other = (a, b) if any(is_label(x) for x in sp.preorder_traversal(a)) else (b, a)
        if not is_label(label):
            return delta
        if isinstance(label, sp.Indexed):  # label[n]: row n's class
            return (batch_base or symbols.y)[label.indices[0], other]
        return symbols.y[other]
    return expr.replace(lambda e: isinstance(e, sp.KroneckerDelta) and any(
        is_label(x) for x in sp.preorder_traversal(e)), convert)


def has_labels(expr: sp.Expr) -> bool:
    return expr.has(LABEL_BASE) or any(s.name == "label" for s in expr.free_symbols)
