"""Subscripts of the static reader: reading x[i, :, None] and writing J[i, j] = e, dz[range(N), y] -= 1.

Why writes are conditions: inside `for i in range(K)` a write J[i, j] = e holds at every (i, j), so
the loop index becomes the array's axis; a write at a label (dz[y] -= 1) holds where the axis equals
the label: a Kronecker delta, later read as the one-hot target y.
"""
from __future__ import annotations

import ast

import sympy as sp

from . import arrays as A
from .arrays import Array
from .values import NotReadable, Tuple


def _elements(frame, node) -> list:
    """('keep'|'new'|'ellipsis'|'pick'|'fancy', value) per subscript element."""
    parts = node.elts if isinstance(node, ast.Tuple) else [node]
    out = []
    for part in parts:
        if isinstance(part, ast.Slice):
            if part.lower is not None or part.upper is not None or part.step is not None:
                raise NotReadable("a slice other than ':'", part)
            out.append(("keep", None))
        elif isinstance(part, ast.Constant) and part.value is None:
            out.append(("new", None))
        elif isinstance(part, ast.Constant) and part.value is Ellipsis:
            out.append(("ellipsis", None))
        else:
            value = frame.expr(part)
            if isinstance(value, Array) and value.ndim == 0 and value.tag in ("const", "index", "labels"):
                out.append(("pick", value))
            elif isinstance(value, Array) and value.ndim == 1 and value.tag in ("arange", "labels"):
                out.append(("fancy", value))
            elif hasattr(value, "path") and value.path.endswith("newaxis"):
                out.append(("new", None))
            else:
                raise NotReadable("an index that is not ':', None, a whole number, a loop index or the labels", part)
    return _expand_ellipsis(out, node)


def _expand_ellipsis(elements: list, node) -> list:
    if sum(kind == "ellipsis" for kind, _ in elements) > 1:
        raise NotReadable("two ellipses in one subscript", node)
    return elements


def _position(value: Array, size) -> sp.Expr:
    """The 1-based position a Python index selects: s[0] is entry 1, s[-1] is entry K."""
    if value.tag == "const" and value.entry.is_negative:
        return size + value.entry + 1
    return value.entry + 1


def _aligned(elements: list, ndim: int, node) -> list:
    used = sum(kind in ("keep", "pick", "fancy") for kind, _ in elements)
    if used > ndim:
        raise NotReadable(f"{used} indices for an array with {ndim} axes", node)
    out = []
    for kind, value in elements:
        if kind == "ellipsis":
            out.extend([("keep", None)] * (ndim - used))
        else:
            out.append((kind, value))
    if not any(kind == "ellipsis" for kind, _ in elements):
        out.extend([("keep", None)] * (ndim - used))
    return out


def read(frame, node: ast.Subscript):
    owner = frame.expr(node.value)
    if isinstance(owner, Tuple):
        return _tuple_item(frame, owner, node)
    if not isinstance(owner, Array):
        raise NotReadable("indexing something that is not an array", node)
    elements = _aligned(_elements(frame, node.slice), owner.ndim, node)
    fancy = [value for kind, value in elements if kind == "fancy"]
    if fancy:
        return _gather(owner, elements, node)
    shape, picks, axes_of = [], [], []
    source = iter(range(owner.ndim))
    for kind, value in elements:
        if kind == "new":
            shape.append(sp.Integer(1))
            axes_of.append(None)
            continue
        r = next(source)
        if kind == "keep":
            shape.append(owner.shape[r])
            axes_of.append(r)
            picks.append(None)
        else:
            picks.append(_position(value, owner.shape[r]) if value.tag != "labels" else value)
    def entry(axes):
        kept = iter(a for a, r in zip(axes, axes_of) if r is not None)
        indices, deltas = [], []
        for pick in picks:
            if pick is None:
                indices.append(next(kept))
            elif isinstance(pick, Array):  # a label: sum over the classes with delta(class, label)
                dummy = A.index_symbol("k")
                indices.append(dummy)
                deltas.append((dummy, pick.entry + 1))
            else:
                indices.append(pick)
        value = owner.at(indices)
        for dummy, label in deltas:
            size = owner.shape[indices.index(dummy)]
            value = sp.Sum(sp.KroneckerDelta(dummy, label) * value, (dummy, 1, size))
        return value
    return A.build(tuple(shape), entry, owner.tag if owner.tag != "labels" else "labels")


def _tuple_item(frame, owner, node):
    value = frame.expr(node.slice)
    if not (isinstance(value, Array) and value.tag == "const" and value.entry.is_Integer):
        raise NotReadable("a tuple indexed by something other than a number", node)
    position = int(value.entry)
    if not -len(owner.items) <= position < len(owner.items) or owner.items[position] is None:
        raise NotReadable("a tuple item that is not there (or is not read)", node)
    return owner.items[position]


def _gather(owner: Array, elements: list, node) -> Array:
    """x[arange(N), labels]: row n's entry at its label, as a sum over classes with a delta."""
    if owner.ndim != 2 or [kind for kind, _ in elements] != ["fancy", "fancy"]:
        raise NotReadable("fancy indexing other than x[arange(N), labels]", node)
    rows, labels = elements[0][1], elements[1][1]
    if rows.tag != "arange" or labels.tag != "labels" or rows.shape[0] != owner.shape[0] != labels.shape[0]:
        raise NotReadable("fancy indexing other than x[arange(N), labels]", node)
    def entry(axes):
        dummy = A.index_symbol("k")
        return sp.Sum(sp.KroneckerDelta(dummy, labels.at(axes) + 1) * owner.at((axes[0], dummy)),
                      (dummy, 1, owner.shape[1]))
    return A.build(owner.shape[:1], entry, owner.tag)


def _chain(target: ast.Subscript):
    """J[i][j] -> (J, [i, j]): nested single subscripts written as one."""
    parts = []
    while isinstance(target, ast.Subscript):
        parts[:0] = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
        target = target.value
    return target, parts


def write(frame, target: ast.Subscript, value, op) -> Array:
    """(the written name's node, its new value) for `target op= value` (op None for plain `=`)."""
    base, parts = _chain(target)
    owner = frame.expr(base)
    if not isinstance(owner, Array) or not isinstance(value, Array):
        raise NotReadable("writing into something that is not an array", target)
    elements = _aligned(_elements(frame, ast.Tuple(elts=parts)), owner.ndim, target)
    axes, condition, view, loops = owner.axes, sp.Integer(1), [], {}
    active = {loop.symbol: loop for loop in frame.loops}
    for r, (kind, item) in enumerate(elements):
        if kind == "new":
            raise NotReadable("None in a subscript that is written", target)
        if kind == "keep":
            view.append(r)
        elif kind == "pick":
            position = _position(item, owner.shape[r])
            if position in active and position not in loops and active[position].size == owner.shape[r]:
                loops[position] = axes[r]
            else:
                condition *= sp.KroneckerDelta(axes[r], position)
        elif item.tag == "arange" and item.shape[0] == owner.shape[r]:
            view.append(r)
        elif item.tag == "labels" and r > 0 and elements[r - 1][1] is not None and elements[r - 1][1].tag == "arange":
            condition *= sp.KroneckerDelta(axes[r], item.at((axes[r - 1],)) + 1)
        else:
            raise NotReadable("a write at fancy indices other than [arange(N), labels]", target)
    view_shape = tuple(owner.shape[r] for r in view)
    entry = A.entry_broadcast(value, tuple(axes[r] for r in view), view_shape)
    condition = condition * sp.Mul(*frame.conditions)
    entry, condition = entry.xreplace(loops), condition.xreplace(loops)
    extra = [loop for loop in frame.loops if loop.symbol not in loops]
    old = owner.entry
    if op in (ast.Add, ast.Sub):
        change = accumulated(condition * entry, extra)
        new = old + change if op is ast.Add else old - change
    elif op in (None, ast.Mult, ast.Div):
        if any((condition * entry).has(loop.symbol) for loop in extra):
            raise NotReadable("a write that depends on a loop index it is not indexed by (use +=)", target)
        new = {None: condition * entry + (1 - condition) * old, ast.Mult: old * (1 + condition * (entry - 1)),
               ast.Div: old / (1 + condition * (entry - 1))}[op]
    else:
        raise NotReadable(f"operator {op.__name__}= on an entry", target)
    tag = "raw" if "raw" in (owner.tag, value.tag) else "safe"
    return base, Array(owner.shape, axes, new, tag)


def accumulated(body: sp.Expr, loops: list) -> sp.Expr:
    limits = [(loop.symbol, 1, loop.size) for loop in loops if body.has(loop.symbol)]
    body = body * sp.Mul(*(loop.size for loop in loops if not body.has(loop.symbol)))
    return sp.Sum(body, *limits) if limits else body
