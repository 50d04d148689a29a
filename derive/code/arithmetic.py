"""Arithmetic of the static reader: + - * / @ ** on symbolic arrays, and the stability tags they carry.

Why tags here: whether exp of a value can overflow depends on how it was computed (z - max z cannot);
each operator says what its result may be: raw (unbounded), shifted (<= 0), tiny (may underflow to 0).
"""
from __future__ import annotations

import ast

from . import arrays as A
from .arrays import Array
from .values import NotReadable, Ref, Tuple

MAX_POWER = 4


def binary(frame, op, left, right, node) -> Array:
    left, right = array_of(left, node), array_of(right, node)
    if op is ast.MatMult:
        return A.matmul(left, right)
    if op is ast.Pow:
        if right.ndim != 0 or right.tag != "const" or not (right.entry.is_Integer and 0 <= right.entry <= MAX_POWER):
            raise NotReadable(f"a power other than a small whole number (0..{MAX_POWER})", node)
        return A.elementwise(lambda v: v ** right.entry, left, tag="safe")
    if op is ast.Div and right.tag in ("tiny", "expshift"):
        result = A.elementwise(lambda a, b: a / b, left, right)
        frame.reader.warn(node, "division by a softmax output or exponential that underflows to 0 at extreme "
                                "logits: x / 0 gives inf or nan (combine the loss and softmax gradients first)", result)
        return result
    fn = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
          ast.Div: lambda a, b: a / b}.get(op)
    if fn is None:
        raise NotReadable(f"operator {op.__name__}", node)
    return A.elementwise(fn, left, right, tag=_arithmetic_tag(op, left, right))


def _arithmetic_tag(op, left: Array, right: Array) -> str:
    tags = (left.tag, right.tag)
    if op is ast.Sub and right.tag == "max":
        return "shifted"  # z - max z <= 0: exp of it cannot overflow
    if "const" == tags[0] == tags[1]:
        return "const"
    if "size" in tags and set(tags) <= {"size", "const"}:
        return "size"
    if "index" in tags and set(tags) <= {"index", "const"}:
        return "index"
    if op in (ast.Add, ast.Sub) and "raw" in tags:
        return "raw"
    if op in (ast.Add, ast.Sub) and "shifted" in tags and set(tags) <= {"shifted", "const", "safe"}:
        return "raw" if "safe" in tags else "shifted"
    if op is ast.Mult and "raw" in tags:
        return "raw"
    if op in (ast.Mult, ast.Div) and ({"tiny", "expshift"} & set(tags)):
        return "tiny"
    if op is ast.Div and "raw" in tags:
        return "raw"
    return "safe"


def array_of(value, node) -> Array:
    if isinstance(value, Array):
        return value
    raise NotReadable(f"arithmetic on {describe(value)}", node)


def describe(value) -> str:
    if isinstance(value, Ref):
        return value.path
    if isinstance(value, Tuple):
        return "a tuple"
    return type(value).__name__ if value is not None else "None"
