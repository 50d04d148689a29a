"""The whitelisted NumPy / PyTorch / SciPy functions and array methods the static reader knows.

Why one table for both frameworks: np.sum(x, axis=1, keepdims=True) and x.sum(dim=1, keepdim=True)
are the same operation; each entry maps a name to one symbolic array operation (arrays.py).
"""
from __future__ import annotations

import ast

import sympy as sp

from . import arrays as A
from .arrays import Array
from .arithmetic import binary
from .values import NotReadable, Tuple

FRAMEWORKS = ("numpy.", "torch.", "scipy.special.", "math.")


def _axis_of(args: list, kwargs: dict, position: int, node):
    value = kwargs.get("axis", kwargs.get("dim", args[position] if len(args) > position else None))
    if value is None:
        return None
    if isinstance(value, Tuple):
        return tuple(_int(v, node) for v in value.items)
    return _int(value, node)


def _int(value, node) -> int:
    if isinstance(value, Array) and value.ndim == 0 and value.tag == "const" and value.entry.is_Integer:
        return int(value.entry)
    raise NotReadable("an axis or size that is not a whole-number literal", node)


def _keepdims(kwargs: dict, node) -> bool:
    value = kwargs.get("keepdims", kwargs.get("keepdim"))
    if value is None:
        return False
    if isinstance(value, Array) and value.tag == "const":
        return bool(value.entry)
    raise NotReadable("keepdims that is not a literal", node)


def _exp(frame, x: Array, node) -> Array:
    result = A.elementwise(sp.exp, x, tag={"raw": "tiny", "shifted": "expshift"}.get(x.tag, "safe"))
    if x.tag == "raw":
        frame.reader.warn(node, "exp of logits not shifted by their maximum: exp(1000) overflows to inf "
                                "(subtract max z first; softmax is shift-invariant)", result)
    return result


def _log(frame, x: Array, node) -> Array:
    result = A.elementwise(sp.log, x, tag="safe")
    if x.tag in ("tiny", "expshift"):
        frame.reader.warn(node, "log of a softmax output or exponential that underflows to 0 at extreme logits: "
                                "log 0 = -inf (use z - max z - log sum exp(z - max z), or log_softmax)", result)
    return result


def _sum(frame, x: Array, axis, keepdims: bool, node) -> Array:
    # exp(z - max z) holds an entry exp(0) = 1 in every row: its sum is at least 1, never 0
    tag = {"expshift": "sumexp", "raw": "raw", "tiny": "tiny"}.get(x.tag, "safe")
    return A.reduce_sum(x, axis, keepdims, tag=tag)


def _max(frame, x: Array, axis, keepdims: bool, node, *, torch_pair: bool) -> object:
    """max z: a fresh symbol per remaining entry. The proof checks the result does not depend on it."""
    base = sp.IndexedBase(A.index_symbol("max").name)
    reduced = A.reduce_sum(x, axis, keepdims)
    free = [ax for ax, size in zip(reduced.axes, reduced.shape) if size != 1]
    value = Array(reduced.shape, reduced.axes, base[tuple(free)] if free else sp.Symbol(base.name, real=True), "max")
    return Tuple((value, None), ("values", "indices")) if torch_pair else value


def _softmax(frame, x: Array, axis, node, *, log: bool) -> Array:
    # The framework's softmax subtracts the maximum itself: stable, though its outputs may underflow to 0.
    axis = -1 if axis is None else axis
    exps = A.elementwise(sp.exp, x)
    total = A.reduce_sum(exps, axis, keepdims=True)
    if log:  # log-softmax values are <= 0: their exp cannot overflow
        return A.elementwise(lambda v, t: v - sp.log(t), x, total, tag="shifted")
    return A.elementwise(lambda e, t: e / t, exps, total, tag="tiny")


def _shape_args(frame, args: list, node) -> tuple:
    items = args[0].items if len(args) == 1 and isinstance(args[0], Tuple) else args
    sizes = []
    for item in items:
        if not (isinstance(item, Array) and item.ndim == 0 and item.tag in ("size", "const")):
            raise NotReadable("a shape that is not made of array sizes", node)
        sizes.append(item.entry)
    return tuple(sizes)


def _one_hot(frame, labels: Array, classes, node) -> Array:
    if labels.tag != "labels":
        raise NotReadable("one_hot of something other than the integer labels", node)
    size = classes.entry if isinstance(classes, Array) and classes.tag in ("size",) else None
    if size is None:
        raise NotReadable("one_hot without the number of classes as an array size", node)
    return A.build(labels.shape + (size,), lambda axes: sp.KroneckerDelta(labels.at(axes[:-1]) + 1, axes[-1]))


def _arange(frame, size, node) -> Array:
    if not (isinstance(size, Array) and size.ndim == 0 and size.tag == "size"):
        raise NotReadable("arange/range of something other than an array size", node)
    return A.build((size.entry,), lambda axes: axes[0] - 1, "arange")


def call_ref(frame, path: str, args: list, kwargs: dict, node):
    """A module function: numpy.exp, torch.nn.functional.softmax, scipy.special.softmax, len, range."""
    if path.startswith("builtins."):
        return _builtin(frame, path[len("builtins."):], args, node)
    if not path.startswith(FRAMEWORKS):
        raise NotReadable(f"call to {path}", node)
    name = path.rsplit(".", 1)[1]
    if name in ("zeros", "ones", "empty"):
        return A.filled(_shape_args(frame, args, node), 1 if name == "ones" else 0)
    if name in ("eye", "identity"):
        return A.eye(_shape_args(frame, args[:1], node)[0])
    if name in ("arange",):
        return _arange(frame, args[0] if len(args) == 1 else None, node)
    if name in ("einsum",):
        if not args or not isinstance(args[0], str):
            raise NotReadable("einsum without literal subscripts", node)
        return A.einsum(args[0], *(_need(a, node) for a in args[1:]))
    if name == "one_hot":
        return _one_hot(frame, _need(args[0], node), args[1] if len(args) > 1 else kwargs.get("num_classes"), node)
    if not args:
        raise NotReadable(f"call to {path} without arguments", node)
    if name not in METHODS:
        raise NotReadable(f"call to {path}", node)
    return _checked(name, args[1:], kwargs, node)(frame, _need(args[0], node), args[1:], kwargs, node,
                                                   path.startswith("torch"))


def _need(value, node) -> Array:
    if not isinstance(value, Array):
        raise NotReadable("an argument that is not an array", node)
    return value


def call_method(frame, owner: Array, name: str, args: list, kwargs: dict, node):
    return _checked(name, args, kwargs, node)(frame, owner, args, kwargs, node, "dim" in kwargs or "keepdim" in kwargs)


# Keyword arguments that change nothing the reader tracks, or that the handlers read; any other
# (out=, where=, initial=, diagonal offsets) would change the result unseen, so it is refused.
KNOWN_KEYWORDS = frozenset({"axis", "dim", "keepdims", "keepdim", "dtype", "num_classes", "copy"})
# How many positional arguments after the array each operation reads; more would be ignored unseen.
EXTRA_ARGUMENTS = {"sum": 1, "mean": 1, "max": 1, "amax": 1, "softmax": 1, "log_softmax": 1, "logsumexp": 1,
                   "outer": 1, "ger": 1, "dot": 1, "matmul": 1, "mm": 1, "mv": 1, "transpose": 2, "permute": 4,
                   "reshape": 4, "view": 4, "expand_dims": 1, "unsqueeze": 1, "squeeze": 1, "multiply": 1,
                   "mul": 1, "add": 1, "subtract": 1, "sub": 1, "divide": 1, "div": 1, "true_divide": 1,
                   "astype": 1, "to": 1, "expand_as": 1, "size": 1}


def _checked(name: str, args: list, kwargs: dict, node):
    unknown = sorted(set(kwargs) - KNOWN_KEYWORDS)
    if unknown:
        raise NotReadable(f"{name}() with {', '.join(k + '=' for k in unknown)}", node)
    if len(args) > EXTRA_ARGUMENTS.get(name, 0):
        raise NotReadable(f"{name}() with {len(args)} arguments besides the array", node)
    return METHODS[name]


def _builtin(frame, name: str, args: list, node):
    if name == "len":
        array = _need(args[0], node)
        if array.ndim == 0:
            raise NotReadable("len() of a scalar", node)
        return A.scalar(array.shape[0], "size")
    if name == "range":
        return _arange(frame, args[0] if len(args) == 1 else None, node)
    if name in ("float", "int") and len(args) == 1 and isinstance(args[0], Array) and args[0].ndim == 0:
        return args[0]
    raise NotReadable(f"call to {name}()", node)


def _binary_fn(op):
    def run(frame, x, args, kwargs, node, _torch):
        return binary(frame, op, x, args[0], node)
    return run


def _size(frame, x, args, kwargs, node, _torch):
    if not args:
        return Tuple(tuple(A.scalar(s, "size") for s in x.shape))
    return A.scalar(x.shape[_int(args[0], node)], "size")


def _reshape(frame, x, args, kwargs, node, _torch):
    shape = tuple(_int(a, node) for a in (args[0].items if len(args) == 1 and isinstance(args[0], Tuple) else args))
    return A.reshape(x, shape)


def _max_method(frame, x, args, kwargs, node, torch_style):
    axis = _axis_of(args, kwargs, 0, node)
    torch_pair = torch_style and axis is not None  # torch.max(x, dim) returns (values, indices)
    return _max(frame, x, axis, _keepdims(kwargs, node), node, torch_pair=torch_pair)


def _transpose(frame, x, args, kwargs, node, _torch):
    if len(args) == 2:
        a, b = (_int(v, node) % x.ndim for v in args)
        order = list(range(x.ndim))
        order[a], order[b] = order[b], order[a]
        return A.transpose(x, tuple(order))
    return A.transpose(x, tuple(_int(v, node) for v in args[0].items) if args else None)


def _identity(frame, x, args, kwargs, node, _torch):
    return x


METHODS = {
    "exp": lambda f, x, a, k, n, t: _exp(f, x, n),
    "log": lambda f, x, a, k, n, t: _log(f, x, n),
    "sum": lambda f, x, a, k, n, t: _sum(f, x, _axis_of(a, k, 0, n), _keepdims(k, n), n),
    "mean": lambda f, x, a, k, n, t: A.elementwise(
        lambda s: s / A.size_of(x, _axis_of(a, k, 0, n)), _sum(f, x, _axis_of(a, k, 0, n), _keepdims(k, n), n)),
    "max": _max_method, "amax": _max_method,
    "softmax": lambda f, x, a, k, n, t: _softmax(f, x, _axis_of(a, k, 0, n), n, log=False),
    "log_softmax": lambda f, x, a, k, n, t: _softmax(f, x, _axis_of(a, k, 0, n), n, log=True),
    "logsumexp": lambda f, x, a, k, n, t: A.elementwise(
        sp.log, A.reduce_sum(A.elementwise(sp.exp, x), _axis_of(a, k, 0, n), _keepdims(k, n)), tag="max"),
    "diag": lambda f, x, a, k, n, t: A.diag(x),
    "diagflat": lambda f, x, a, k, n, t: A.diag(A.flatten(x)),
    "diag_embed": lambda f, x, a, k, n, t: A.diag_embed(x),
    "outer": lambda f, x, a, k, n, t: A.outer(x, _need(a[0], n)),
    "ger": lambda f, x, a, k, n, t: A.outer(x, _need(a[0], n)),
    "dot": lambda f, x, a, k, n, t: A.matmul(x, _need(a[0], n)),
    "matmul": lambda f, x, a, k, n, t: A.matmul(x, _need(a[0], n)),
    "mm": lambda f, x, a, k, n, t: A.matmul(x, _need(a[0], n)),
    "mv": lambda f, x, a, k, n, t: A.matmul(x, _need(a[0], n)),
    "transpose": _transpose, "t": lambda f, x, a, k, n, t: A.transpose(x), "permute": _transpose,
    "reshape": _reshape, "view": _reshape,
    "expand_dims": lambda f, x, a, k, n, t: A.expand_dims(x, _axis_of(a, k, 0, n)),
    "unsqueeze": lambda f, x, a, k, n, t: A.expand_dims(x, _axis_of(a, k, 0, n)),
    "squeeze": lambda f, x, a, k, n, t: A.squeeze(x, _axis_of(a, k, 0, n)),
    "flatten": lambda f, x, a, k, n, t: A.flatten(x), "ravel": lambda f, x, a, k, n, t: A.flatten(x),
    "zeros_like": lambda f, x, a, k, n, t: A.filled(x.shape, 0),
    "empty_like": lambda f, x, a, k, n, t: A.filled(x.shape, 0),
    "ones_like": lambda f, x, a, k, n, t: A.filled(x.shape, 1),
    "multiply": _binary_fn(ast.Mult), "mul": _binary_fn(ast.Mult),
    "add": _binary_fn(ast.Add), "subtract": _binary_fn(ast.Sub),
    "sub": _binary_fn(ast.Sub), "divide": _binary_fn(ast.Div),
    "div": _binary_fn(ast.Div), "true_divide": _binary_fn(ast.Div),
    "negative": lambda f, x, a, k, n, t: A.elementwise(lambda v: -v, x),
    "copy": _identity, "clone": _identity, "detach": _identity, "float": _identity, "double": _identity,
    "astype": _identity, "numpy": _identity, "contiguous": _identity, "to": _identity, "asarray": _identity,
    "array": _identity, "tensor": _identity, "as_tensor": _identity, "from_numpy": _identity,
    "expand_as": lambda f, x, a, k, n, t: A.elementwise(lambda v, _w: v, x, _need(a[0], n), tag=x.tag),
    "size": _size,
}
