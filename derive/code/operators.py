"""Expressions of the static reader: names, numbers, arithmetic, attributes and calls, by node type.

Why a table of node types: anything not in it is refused with its position (see reader.NotReadable).
Stability tags follow the values: exp of raw logits overflows at z ~ 1000, log of a softmax output
underflows to log 0 = -inf; both are recorded as warnings where they happen.
"""
from __future__ import annotations

import ast
from fractions import Fraction

import sympy as sp

from . import arrays as A
from .arrays import Array, ShapeError
from .arithmetic import array_of, binary, describe
from .calls import METHODS, call_method, call_ref
from .indexing import read
from .values import Function, NotReadable, Obj, Ref, Tuple

MAX_INT = 10 ** 6



def expression(frame, node):
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise NotReadable(f"expression {type(node).__name__}", node)
    try:
        return handler(frame, node)
    except ShapeError as error:
        raise NotReadable(str(error), node) from None


def _name(frame, node):
    return frame.lookup(node)


def _constant(frame, node):
    value = node.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):  # keepdims=True
        return A.scalar(sp.Integer(int(value)), "const")
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise NotReadable(f"an integer beyond {MAX_INT}", node)
        return A.scalar(sp.Integer(value), "const")
    if isinstance(value, float):
        if value != 0 and not 1e-30 <= abs(value) <= 1e30:
            raise NotReadable("a float constant beyond 1e-30..1e30", node)
        exact = Fraction(repr(value))  # the decimal the code wrote, not its binary approximation
        return A.scalar(sp.Rational(exact.numerator, exact.denominator), "const")
    raise NotReadable(f"a constant of type {type(value).__name__}", node)


def _tuple(frame, node):
    return Tuple(tuple(frame.expr(e) for e in node.elts))


def _unary(frame, node):
    value = array_of(frame.expr(node.operand), node)
    if isinstance(node.op, ast.USub):
        return A.elementwise(lambda v: -v, value, tag=value.tag if value.tag in ("const", "raw") else "safe")
    if isinstance(node.op, ast.UAdd):
        return value
    raise NotReadable(f"operator {type(node.op).__name__}", node)


def _binop(frame, node):
    return binary(frame, type(node.op), frame.expr(node.left), frame.expr(node.right), node)


def _attribute(frame, node):
    owner = frame.expr(node.value)
    if isinstance(owner, Ref):
        return Ref(f"{owner.path}.{node.attr}")
    if isinstance(owner, Obj):
        if node.attr in _CTX_CALLS:
            return _CtxCall(owner, node.attr)
        if node.attr in ("saved_tensors", "saved_variables"):
            return Tuple(owner.saved)
        if node.attr in owner.attributes:
            return owner.attributes[node.attr]
        if frame.function.owner is not None:
            method = frame.reader.module.methods(frame.function.owner).get(node.attr)
            if method is not None:
                return _BoundMethod(owner, Function(method, frame.function.owner))
        raise NotReadable(f"attribute {node.attr!r} was never set", node)
    if isinstance(owner, Tuple) and owner.names and node.attr in owner.names:
        return owner.items[owner.names.index(node.attr)]
    if isinstance(owner, Array):
        if node.attr == "T" or node.attr == "mT":
            return A.transpose(owner) if node.attr == "T" else A.transpose(owner, tuple(range(owner.ndim - 2)) + (-1, -2))
        if node.attr == "shape":
            return Tuple(tuple(A.scalar(s, "size") for s in owner.shape))
        if node.attr in ("data",):
            return owner
        if node.attr in METHODS:
            return _Method(owner, node.attr)
    raise NotReadable(f"attribute {node.attr!r} of {describe(owner)}", node)


class _Method:
    def __init__(self, owner: Array, name: str):
        self.owner, self.name = owner, name


_CTX_CALLS = ("save_for_backward", "mark_non_differentiable", "set_materialize_grads")


class _CtxCall:
    """ctx.save_for_backward(s, y): what backward's ctx.saved_tensors will return."""

    def __init__(self, owner: Obj, name: str):
        self.owner, self.name = owner, name

    def __call__(self, args: list) -> None:
        if self.name == "save_for_backward":
            self.owner.saved = tuple(args)


class _BoundMethod:
    def __init__(self, owner: Obj, function: Function):
        self.owner, self.function = owner, function


def _call(frame, node):
    callee = frame.expr(node.func)
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise NotReadable("*args or **kwargs in a call", node)
    args = [frame.expr(a) for a in node.args]
    kwargs = {k.arg: frame.expr(k.value) for k in node.keywords}
    if isinstance(callee, Function):
        return frame.reader.call(callee, args, kwargs, node=node)
    if isinstance(callee, _BoundMethod):
        return frame.reader.call(callee.function, [callee.owner, *args], kwargs, node=node)
    if isinstance(callee, _CtxCall):
        return callee(args)
    if isinstance(callee, _Method):
        return call_method(frame, callee.owner, callee.name, args, kwargs, node)
    if isinstance(callee, Ref):
        return call_ref(frame, callee.path, args, kwargs, node)
    if isinstance(callee, Obj) or callee is None:
        raise NotReadable("calling something that is not a function", node)
    raise NotReadable(f"calling {describe(callee)}", node)


def _subscript(frame, node):
    return read(frame, node)


_HANDLERS = {ast.Name: _name, ast.Constant: _constant, ast.Tuple: _tuple, ast.List: _tuple, ast.UnaryOp: _unary,
             ast.BinOp: _binop, ast.Attribute: _attribute, ast.Call: _call, ast.Subscript: _subscript}
