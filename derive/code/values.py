"""The values and records the static reader works with: references, objects, tuples, loops, findings.

Why apart from the reader: the reader, its expressions, calls and subscripts all build and inspect these;
kept here, those modules import downwards only (arrays -> values -> arithmetic -> calls, indexing ->
operators -> reader).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

import sympy as sp

from ..errors import DeriveError


class NotReadable(DeriveError):
    """Code outside the whitelist: said with its position, never guessed."""

    exit_code = 2

    def __init__(self, message: str, node: ast.AST | None = None):
        self.line = getattr(node, "lineno", None)
        self.column = getattr(node, "col_offset", -1) + 1 if node is not None else None
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        super().__init__(f"{where}not read statically: {message}")
        self.reason = message


@dataclass(frozen=True)
class Ref:
    """A module or a function of one, by canonical dotted name (numpy.exp, torch.nn.functional.softmax)."""

    path: str


@dataclass
class Obj:
    """`self` or `ctx`: attributes set while reading forward and read again in backward."""

    attributes: dict = field(default_factory=dict)
    saved: tuple = ()


@dataclass(frozen=True)
class Function:
    node: ast.FunctionDef
    owner: ast.ClassDef | None = None


@dataclass(frozen=True)
class Bound:
    """A name's value and the loops active when it was assigned (its per-iteration scope)."""

    value: object
    loops: tuple = ()


@dataclass(frozen=True)
class Loop:
    symbol: sp.Symbol  # 1-based index; the Python value is symbol - 1
    size: sp.Expr


@dataclass(frozen=True)
class Warning_:
    """A float-stability finding: where, and why the code overflows or underflows."""

    line: int
    column: int
    reason: str
    pattern: sp.Expr  # the flagged value's entry, axes as wildcards: it matters only if the result holds it


class Module:
    """A parsed file: its imports (aliases -> canonical names), functions and classes."""

    def __init__(self, tree: ast.Module):
        self.aliases: dict = {}
        self.functions: dict = {}
        self.classes: dict = {}
        self.batch_intent = any(_rows_call(n) for n in ast.walk(tree) if isinstance(n, ast.Call))
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef,)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node

    def methods(self, cls: ast.ClassDef) -> dict:
        return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def _rows_call(call: ast.Call) -> bool:
    """A reduction over axis -1 or 1, or with keepdims over an axis other than 0: written for rows of a batch."""
    keywords = {k.arg: k.value for k in call.keywords}
    axis = keywords.get("axis", keywords.get("dim"))
    literal = _whole_number(axis)
    if literal in (-1, 1):
        return True
    return bool({"keepdims", "keepdim"} & set(keywords)) and axis is not None and literal != 0


def _whole_number(node):
    """-1 from `-1`, 1 from `1`; None for anything that is not a whole-number literal."""
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    inner = node.operand if negative else node
    if isinstance(inner, ast.Constant) and type(inner.value) is int:
        return -inner.value if negative else inner.value
    return None


@dataclass(frozen=True)
class Tuple:
    """A Python tuple of read values (returned gradients, `N, K = x.shape`); `names` for torch.max's (values, indices)."""

    items: tuple
    names: tuple = ()

