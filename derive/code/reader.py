"""Read a Python function's body into symbolic arrays: a whitelist interpreter over `ast`, nothing executed.

Why an interpreter of our own: the source is untrusted, so it never reaches eval/exec/compile; every
node kind not listed here is refused with its line and column ("not read statically"), never guessed.
Loops over range(size) run once with a symbolic index (a write J[i, j] = e holds for every i, j), and
`if i == j` becomes a Kronecker delta, so a loop-built Jacobian reads as one entry formula.
"""
from __future__ import annotations

import ast

import sympy as sp

from . import arrays as A
from .arithmetic import binary
from .arrays import Array
from .indexing import accumulated, write
from .operators import expression
from .values import Bound, Function, Loop, Module, NotReadable, Obj, Ref, Tuple, Warning_

MAX_INLINE_DEPTH = 8  # helper calls inlined (softmax() inside backward()); deeper is refused
MAX_NODES = 5000  # AST nodes a read may visit (a bound on work, not on time)
MAX_EXPRESSION_NODES = 20_000  # per value: `a = a @ a` repeated would double the tree at every line


ALLOWED_DECORATORS = {"staticmethod", "classmethod", "once_differentiable", "no_grad"}


class Reader:
    """One reading: the warnings found, the node budget, and the inlining depth."""

    def __init__(self, module: Module):
        self.module = module
        self.warnings: list = []
        self.nodes = 0
        self.depth = 0

    # -- functions -------------------------------------------------------------------------------
    def call(self, function: Function, args: list, kwargs: dict | None = None, *, node=None):
        fn = function.node
        self.depth += 1
        if self.depth > MAX_INLINE_DEPTH:
            raise NotReadable("helper calls nested too deeply (recursion?)", node or fn)
        try:
            for decorator in fn.decorator_list:
                name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", None)
                if name not in ALLOWED_DECORATORS:
                    raise NotReadable(f"decorator {ast.unparse(decorator)!r}", decorator)
            frame = Frame(self, function)
            frame.bind(args, kwargs or {}, node or fn)
            return frame.run(fn.body)
        finally:
            self.depth -= 1

    def warn(self, node, reason: str, value: Array) -> None:
        pattern = value.entry.xreplace({axis: sp.Wild(f"w{r}") for r, axis in enumerate(value.axes)})
        self.warnings.append(Warning_(node.lineno, node.col_offset + 1, reason, pattern))

    def tick(self, node) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise NotReadable(f"more than {MAX_NODES} operations to read", node)


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class Frame:
    """The local names of one function call being read."""

    def __init__(self, reader: Reader, function: Function):
        self.reader, self.function = reader, function
        self.names: dict = {}
        self.loops: list = []
        self.conditions: list = []

    def bind(self, args: list, kwargs: dict, node) -> None:
        spec = self.function.node.args
        if spec.vararg or spec.kwarg or spec.kwonlyargs or spec.posonlyargs:
            raise NotReadable("*args, **kwargs or keyword-only parameters", self.function.node)
        params = [a.arg for a in spec.args]
        defaults = dict(zip(params[len(params) - len(spec.defaults):], spec.defaults))
        if len(args) > len(params):
            raise NotReadable(f"{self.function.node.name}() called with {len(args)} arguments", node)
        values = dict(zip(params, args))
        for name, value in kwargs.items():
            if name not in params or name in values:
                raise NotReadable(f"argument {name!r} of {self.function.node.name}()", node)
            values[name] = value
        for name in params:
            if name not in values:
                if name not in defaults:
                    raise NotReadable(f"parameter {name!r} of {self.function.node.name}() has no value", node)
                values[name] = self.expr(defaults[name])
        self.names = {name: Bound(value) for name, value in values.items()}

    def run(self, body: list):
        try:
            self.block(body)
        except _Return as result:
            return result.value
        return None

    # -- statements ------------------------------------------------------------------------------
    def block(self, body: list) -> None:
        for statement in body:
            self.reader.tick(statement)
            self.statement(statement)

    def bounded(self, value, node):
        """The value, if its entry is of a size the prover can handle; walked at most to the bound."""
        if isinstance(value, Array):
            for count, _ in enumerate(sp.preorder_traversal(value.entry)):
                if count > MAX_EXPRESSION_NODES:
                    raise NotReadable(f"an expression of more than {MAX_EXPRESSION_NODES} nodes", node)
        return value

    def statement(self, node) -> None:
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return  # a docstring
            if isinstance(node.value, ast.Call):
                self.expr(node.value)  # ctx.save_for_backward(...), ctx.mark_non_differentiable(...)
                return
            raise NotReadable("an expression statement", node)
        if isinstance(node, (ast.Pass, ast.Assert)):
            return  # asserts check shapes at run time; they compute nothing
        if isinstance(node, ast.Return):
            if self.loops or self.conditions:
                raise NotReadable("return inside a loop or an if", node)
            raise _Return(None if node.value is None else self.bounded(self.expr(node.value), node))
        if isinstance(node, ast.Assign):
            value = self.bounded(self.expr(node.value), node)
            for target in node.targets:
                self.assign(target, value, node)
            return
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, self.expr(node.value), node)
            return
        if isinstance(node, ast.AugAssign):
            self.augmented(node)
            return
        if isinstance(node, ast.For):
            self.loop(node)
            return
        if isinstance(node, ast.If):
            self.branch(node)
            return
        raise NotReadable(f"statement {type(node).__name__}", node)

    def assign(self, target, value, node) -> None:
        if isinstance(target, ast.Name):
            old = self.names.get(target.id)
            if old is not None and len(self.loops) > len(old.loops) and self._reads(node, target.id):
                raise NotReadable(f"{target.id} = ... {target.id} ... inside a loop (write {target.id} += ...)", node)
            self.names[target.id] = Bound(self._conditioned(value, old, node), tuple(self.loops))
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Tuple) else None
            if items is None or len(items) != len(target.elts):
                raise NotReadable("unpacking something that is not a tuple of the same length", node)
            for element, item in zip(target.elts, items):
                self.assign(element, item, node)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            if not isinstance(owner, Obj):
                raise NotReadable("setting an attribute of something other than self or ctx", target)
            owner.attributes[target.attr] = value
        elif isinstance(target, ast.Subscript):
            self._store(*write(self, target, value, None), node)
        else:
            raise NotReadable(f"assignment to {type(target).__name__}", target)

    def _conditioned(self, value, old: Bound | None, node):
        """Inside `if i == j:` a plain assignment keeps the old value where the condition is false."""
        if not self.conditions:
            return value
        if not isinstance(value, Array) or (old is not None and not isinstance(old.value, Array)):
            raise NotReadable("a non-array assigned inside an if", node)
        condition = sp.Mul(*self.conditions)
        if old is None:  # new in this branch: kept only if the other branch assigns it too (see branch)
            return A.elementwise(lambda new: condition * new, value)
        return A.elementwise(lambda new, before: condition * new + (1 - condition) * before, value, old.value)

    def _store(self, target, value, node) -> None:
        if isinstance(target, ast.Name):
            bound = self.names.get(target.id)
            self.names[target.id] = Bound(value, bound.loops if bound else ())
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            if not isinstance(owner, Obj):
                raise NotReadable("writing into an attribute of something other than self or ctx", target)
            owner.attributes[target.attr] = value
        else:
            raise NotReadable("writing into an entry of an expression", node)

    def _reads(self, node, name: str) -> bool:
        return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value))

    def augmented(self, node: ast.AugAssign) -> None:
        op = type(node.op)
        value = self.bounded(self.expr(node.value), node)
        if isinstance(node.target, ast.Subscript):
            self._store(*write(self, node.target, value, op), node)
            return
        if not isinstance(node.target, ast.Name):
            raise NotReadable("augmented assignment to an attribute", node)
        bound = self.names.get(node.target.id)
        if bound is None:
            raise NotReadable(f"{node.target.id} is not defined", node)
        extra = [loop for loop in self.loops if loop not in bound.loops]
        if extra:
            if op not in (ast.Add, ast.Sub) or not isinstance(value, Array):
                raise NotReadable("only += and -= accumulate over a loop", node)
            value = self.summed_over(value, extra)
        elif self.conditions:
            value = A.elementwise(lambda v: sp.Mul(*self.conditions) * v, value) if op in (ast.Add, ast.Sub) \
                else self._raise("*= or /= inside an if", node)
        result = binary(self, op, bound.value, value, node)
        self.names[node.target.id] = Bound(result, bound.loops)

    def _raise(self, message, node):
        raise NotReadable(message, node)

    def summed_over(self, value: Array, loops: list) -> Array:
        """Sum over the loops the target does not vary with: `acc += e` inside `for k in range(K)`."""
        condition = sp.Mul(*self.conditions)
        return A.elementwise(lambda v: accumulated(condition * v, loops), value, tag=value.tag)

    def loop(self, node: ast.For) -> None:
        if node.orelse or not isinstance(node.target, ast.Name):
            raise NotReadable("for with else or with a tuple target", node)
        size = self._range_size(node.iter)
        symbol = A.index_symbol(node.target.id)
        loop = Loop(symbol, size)
        self.loops.append(loop)
        self.names[node.target.id] = Bound(A.scalar(symbol - 1, "index"), tuple(self.loops))
        try:
            for statement in node.body:
                if isinstance(statement, (ast.Break, ast.Continue)):
                    raise NotReadable("break or continue", statement)
            self.block(node.body)
        finally:
            self.loops.pop()
        # Names assigned per iteration are stale after the loop: their value was the last iteration's.
        self.names = {name: bound for name, bound in self.names.items() if loop not in bound.loops}

    def _range_size(self, iterator) -> sp.Expr:
        if not (isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name)
                and iterator.func.id == "range" and len(iterator.args) == 1 and not iterator.keywords):
            raise NotReadable("a for loop other than `for i in range(size)`", iterator)
        size = self.expr(iterator.args[0])
        if not (isinstance(size, Array) and size.ndim == 0 and size.tag == "size"):
            raise NotReadable("range() of something other than an array size", iterator)
        return size.entry

    def branch(self, node: ast.If) -> None:
        condition = self.condition(node.test)
        before = set(self.names)
        self.conditions.append(condition)
        try:
            self.block(node.body)
        finally:
            self.conditions.pop()
        new_in_then = set(self.names) - before
        self.conditions.append(1 - condition)
        try:
            self.block(node.orelse)
        finally:
            self.conditions.pop()
        new_in_else = set(self.names) - before - new_in_then
        # A name assigned in one branch only has no value where the other ran: unusable after the if.
        for name in (new_in_then - _assigned(node.orelse)) | new_in_else:
            del self.names[name]

    def condition(self, test) -> sp.Expr:
        """`i == j` / `i != j` between indices: a Kronecker delta (1 where true, 0 where false)."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
            raise NotReadable("an if whose test is not `index == index` or `index != index`", test)
        left, right = self.expr(test.left), self.expr(test.comparators[0])
        if not all(isinstance(v, Array) and v.ndim == 0 and v.tag in ("index", "const", "labels") for v in (left, right)):
            raise NotReadable("an if comparing something other than indices", test)
        delta = sp.KroneckerDelta(left.entry + 1, right.entry + 1)
        return delta if isinstance(test.ops[0], ast.Eq) else 1 - delta

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node):
        self.reader.tick(node)
        return expression(self, node)

    def lookup(self, node: ast.Name):
        if node.id in self.names:
            return self.names[node.id].value
        module = self.reader.module
        if node.id in module.aliases:
            return Ref(module.aliases[node.id])
        if node.id in module.functions:
            return Function(module.functions[node.id])
        if node.id in ("range", "len", "float", "int", "super"):
            return Ref(f"builtins.{node.id}")
        if node.id in self.reader.module.classes:
            raise NotReadable(f"using the class {node.id} inside a function", node)
        raise NotReadable(f"the name {node.id!r} (not a parameter, local, import or function of this file)", node)


def _assigned(body: list) -> set:
    return {t.id for statement in body for n in ast.walk(statement) if isinstance(n, (ast.Assign, ast.AugAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
