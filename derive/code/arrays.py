"""Symbolic arrays: a shape of symbolic sizes and one SymPy entry in per-axis index symbols.

Why entries, not explicit matrices: an entry formula `sigma[a] * (KroneckerDelta(a, b) - sigma[b])`
holds for every K at once, which is what the prover needs; explicit matrices would fix K.
Indices are 1-based, as in the derivations (Python's s[0] is entry 1).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from ..errors import DeriveError

_counter = itertools.count()


class ShapeError(DeriveError):
    """Two shapes do not fit (broadcasting, matmul, an axis that does not exist)."""


def index_symbol(prefix: str = "a") -> sp.Symbol:
    """A fresh 1-based index, unique for the whole process (no capture between arrays)."""
    return sp.Symbol(f"_{prefix}{next(_counter)}", integer=True, positive=True)


@dataclass(frozen=True)
class Array:
    """An array value. `tag` tracks what matters for float stability:
    raw (unbounded logits), shifted (z - max z <= 0), max (a row maximum), tiny (may underflow to 0),
    sumexp (a sum of shifted exponentials, >= 1), safe (bounded), labels (integer classes), index."""

    shape: tuple
    axes: tuple
    entry: sp.Expr
    tag: str = "safe"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def at(self, indices) -> sp.Expr:
        return self.entry.xreplace(dict(zip(self.axes, indices)))


def scalar(value: sp.Expr, tag: str = "safe") -> Array:
    return Array((), (), sp.Integer(value) if isinstance(value, int) else value, tag)


def build(shape: tuple, entry_of, tag: str = "safe") -> Array:
    """An array of `shape` whose entry is entry_of(indices)."""
    axes = tuple(index_symbol() for _ in shape)
    return Array(tuple(shape), axes, entry_of(axes), tag)


def _axis(array: Array, axis: int) -> int:
    if not -array.ndim <= axis < array.ndim:
        raise ShapeError(f"axis {axis} does not exist for an array with {array.ndim} axes")
    return axis % array.ndim


def broadcast_shape(*shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for position in range(ndim):
        sizes = {s[position - ndim + len(s)] for s in shapes if position - ndim + len(s) >= 0}
        sizes.discard(sp.Integer(1))
        if len(sizes) > 1:
            raise ShapeError("shapes " + " and ".join(_show(s) for s in shapes) + " do not broadcast")
        out.append(sizes.pop() if sizes else sp.Integer(1))
    return tuple(out)


def _show(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def entry_broadcast(array: Array, axes: tuple, shape: tuple) -> sp.Expr:
    """The entry of `array` read at the result's index symbols `axes` of the broadcast `shape`."""
    if broadcast_shape(array.shape, shape) != tuple(shape):
        raise ShapeError(f"shape {_show(array.shape)} does not broadcast to {_show(shape)}")
    offset = len(shape) - array.ndim
    picks = [sp.Integer(1) if size == 1 and shape[offset + r] != 1 else axes[offset + r]
             for r, size in enumerate(array.shape)]
    return array.at(picks)


def elementwise(fn, *arrays: Array, tag: str = "safe") -> Array:
    shape = broadcast_shape(*(a.shape for a in arrays))
    return build(shape, lambda axes: fn(*(entry_broadcast(a, axes, shape) for a in arrays)), tag)


def _normal_axes(array: Array, axis) -> tuple:
    if axis is None:
        return tuple(range(array.ndim))
    if isinstance(axis, tuple):
        return tuple(sorted({_axis(array, a) for a in axis}))
    return (_axis(array, axis),)


def reduce_sum(array: Array, axis=None, keepdims: bool = False, tag: str = "safe") -> Array:
    """Sum over the given axes: a SymPy Sum with a fresh dummy per summed axis."""
    summed = _normal_axes(array, axis)
    body, limits = array.entry, []
    for r in summed:
        if array.shape[r] == 1:
            body = body.xreplace({array.axes[r]: sp.Integer(1)})
            continue
        dummy = index_symbol("k")
        body = body.xreplace({array.axes[r]: dummy})
        limits.append((dummy, 1, array.shape[r]))
    entry = sp.Sum(body, *limits) if limits else body
    kept = [r for r in range(array.ndim) if keepdims or r not in summed]
    shape = tuple(sp.Integer(1) if r in summed else array.shape[r] for r in kept)
    axes = tuple(index_symbol() for _ in kept)
    rename = {array.axes[r]: axes[position] for position, r in enumerate(kept) if r not in summed}
    return Array(shape, axes, entry.xreplace(rename), tag)


def size_of(array: Array, axis=None) -> sp.Expr:
    return sp.Mul(*(array.shape[r] for r in _normal_axes(array, axis)))


def transpose(array: Array, order: tuple | None = None) -> Array:
    order = tuple(reversed(range(array.ndim))) if order is None else tuple(_axis(array, a) for a in order)
    return Array(tuple(array.shape[r] for r in order), tuple(array.axes[r] for r in order), array.entry, array.tag)


def matmul(left: Array, right: Array) -> Array:
    """NumPy's @ for 1-D and 2-D operands (and a stack of matrices on the left)."""
    if left.ndim == 0 or right.ndim == 0:
        raise ShapeError("matmul of a scalar")
    if right.ndim > 2:
        raise ShapeError("matmul with a stack of matrices on the right is not read")
    inner_left, inner_right = left.shape[-1], right.shape[0]
    if inner_left != inner_right:
        raise ShapeError(f"matmul of {_show(left.shape)} and {_show(right.shape)}: {inner_left} != {inner_right}")
    dummy = index_symbol("k")
    out_shape = left.shape[:-1] + right.shape[1:]
    def entry(axes):
        left_part = left.at(axes[:left.ndim - 1] + (dummy,))
        right_part = right.at((dummy,) + axes[left.ndim - 1:])
        return sp.Sum(left_part * right_part, (dummy, 1, inner_left))
    return build(out_shape, entry, _tag_of(left, right))


def _tag_of(*arrays: Array) -> str:
    tags = {a.tag for a in arrays}
    return "raw" if "raw" in tags else "safe"


def outer(left: Array, right: Array) -> Array:
    u, v = flatten(left), flatten(right)
    return build(u.shape + v.shape, lambda axes: u.at(axes[:1]) * v.at(axes[1:]), _tag_of(u, v))


def flatten(array: Array) -> Array:
    big = [r for r, size in enumerate(array.shape) if size != 1]
    if len(big) > 1:
        raise ShapeError(f"flattening a {_show(array.shape)} array is not read")
    if not big:
        return build((sp.Integer(1),), lambda axes: array.at([sp.Integer(1)] * array.ndim), array.tag)
    keep = big[0]
    return build((array.shape[keep],), lambda axes: array.at(
        [axes[0] if r == keep else sp.Integer(1) for r in range(array.ndim)]), array.tag)


def reshape(array: Array, shape: tuple) -> Array:
    """Only reshapes that add or drop axes of size 1 (view(-1, 1), reshape(1, -1), reshape(-1))."""
    flat = flatten(array)
    wanted = [s for s in shape if s != -1]
    if any(s != 1 for s in wanted) or list(shape).count(-1) > 1:
        if tuple(shape) == tuple(array.shape):
            return array
        raise ShapeError(f"reshape to {shape} is not read (only adding or dropping axes of size 1)")
    return build(tuple(flat.shape[0] if s == -1 else sp.Integer(1) for s in shape),
                 lambda axes: flat.at([axes[list(shape).index(-1)]] if -1 in shape else [sp.Integer(1)]),
                 array.tag)


def expand_dims(array: Array, axis: int) -> Array:
    position = axis % (array.ndim + 1)
    shape = array.shape[:position] + (sp.Integer(1),) + array.shape[position:]
    return build(shape, lambda axes: array.at(axes[:position] + axes[position + 1:]), array.tag)


def squeeze(array: Array, axis=None) -> Array:
    drop = [r for r in (_normal_axes(array, axis)) if array.shape[r] == 1]
    keep = [r for r in range(array.ndim) if r not in drop]
    return Array(tuple(array.shape[r] for r in keep), tuple(array.axes[r] for r in keep),
                 array.entry.xreplace({array.axes[r]: sp.Integer(1) for r in drop}), array.tag)


def diag(array: Array) -> Array:
    """np.diag: a vector becomes a diagonal matrix; a square matrix gives its diagonal."""
    if array.ndim == 1:
        return build(array.shape * 2, lambda axes: sp.KroneckerDelta(axes[0], axes[1]) * array.at(axes[:1]),
                     array.tag)
    if array.ndim == 2 and array.shape[0] == array.shape[1]:
        return build(array.shape[:1], lambda axes: array.at(axes * 2), array.tag)
    raise ShapeError(f"diag of a {_show(array.shape)} array is not read")


def diag_embed(array: Array) -> Array:
    """torch.diag_embed: the last axis becomes a diagonal matrix (a stack of them for a batch)."""
    shape = array.shape + array.shape[-1:]
    return build(shape, lambda axes: sp.KroneckerDelta(axes[-2], axes[-1]) * array.at(axes[:-1]), array.tag)


def eye(size: sp.Expr) -> Array:
    return build((size, size), lambda axes: sp.KroneckerDelta(axes[0], axes[1]))


def filled(shape: tuple, value) -> Array:
    return build(tuple(shape), lambda _axes: sp.Integer(value))


def einsum(spec: str, *operands: Array) -> Array:
    """einsum with literal subscripts ('ij,j->i'): a product summed over the letters not kept."""
    if "->" not in spec or "." in spec:
        raise ShapeError(f"einsum {spec!r}: only explicit 'ab,b->a' subscripts are read")
    inputs, output = spec.replace(" ", "").split("->")
    terms = inputs.split(",")
    if len(terms) != len(operands) or any(len(t) != op.ndim for t, op in zip(terms, operands)):
        raise ShapeError(f"einsum {spec!r} does not fit its operands")
    sizes: dict = {}
    for term, op in zip(terms, operands):
        for letter, size in zip(term, op.shape):
            if sizes.setdefault(letter, size) != size:
                raise ShapeError(f"einsum {spec!r}: letter {letter} has sizes {sizes[letter]} and {size}")
    letters = {letter: index_symbol("k") for letter in sizes}
    def entry(axes):
        symbols = {**letters, **dict(zip(output, axes))}
        body = sp.Mul(*(op.at([symbols[c] for c in term]) for term, op in zip(terms, operands)))
        limits = [(letters[c], 1, sizes[c]) for c in sorted(sizes) if c not in output]
        return sp.Sum(body, *limits) if limits else body
    return build(tuple(sizes[c] for c in output), entry, _tag_of(*operands))
