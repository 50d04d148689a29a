"""Find what to check in a parsed file: a function, a method (Class.method), or a class with forward/backward.

Why a record: the static reader and the runner call the code the same way (a function with its
arguments; a layer's forward then backward; an autograd.Function's apply then backward), so both
read the parameters and their roles from here.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from ..errors import UsageError
from .values import Module, NotReadable
from .signature import role_of

FORWARD_NAMES = ("forward", "_forward")
BACKWARD_NAMES = ("backward", "_backward")
BACKWARD_WORDS = ("backward", "grad", "jacobian", "derivative", "vjp", "backprop")
MAX_SOURCE_CHARS = 200_000
STORED_GRADIENTS = ("dinputs", "dx", "dX", "grad_input", "dz", "delta")  # a backward that returns nothing


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # function | method | layer | autograd
    function: ast.FunctionDef | None = None  # the function or method read (function, method)
    owner: ast.ClassDef | None = None
    forward: ast.FunctionDef | None = None
    backward: ast.FunctionDef | None = None

    @property
    def node(self):
        return self.owner if self.owner is not None and self.function is None else self.function


def parse(source: str) -> Module:
    if len(source) > MAX_SOURCE_CHARS:
        raise NotReadable(f"the file is longer than {MAX_SOURCE_CHARS} characters")
    try:
        tree = ast.parse(source)  # syntax only: the parser builds a tree, nothing is executed
    except SyntaxError as error:
        raise NotReadable(f"Python syntax error: {error.msg}",
                          ast.Pass(lineno=error.lineno or 1, col_offset=max(0, (error.offset or 1) - 1))) from None
    return Module(tree)


def find(module: Module, name: str | None) -> Entry:
    """NAME, CLASS or CLASS.METHOD; without a name, the one obvious candidate."""
    if name and "." in name:
        class_name, _, method = name.partition(".")
        owner = module.classes.get(class_name)
        function = module.methods(owner).get(method) if owner is not None else None
        if function is None:
            raise UsageError(f"no method {name!r} in the file")
        return Entry(name, "method", function, owner)
    if name:
        if name in module.functions:
            return Entry(name, "function", module.functions[name])
        if name in module.classes:
            return _class_entry(module, module.classes[name])
        raise UsageError(f"no top-level function or class {name!r} in the file")
    with_backward = [c for c in module.classes.values() if _method(module, c, BACKWARD_NAMES)]
    if len(with_backward) == 1:
        return _class_entry(module, with_backward[0])
    if len(module.functions) == 1 and not module.classes:
        only = next(iter(module.functions.values()))
        return Entry(only.name, "function", only)
    named = [f for f in module.functions.values() if any(w in f.name.lower() for w in BACKWARD_WORDS)]
    if len(named) == 1:
        return Entry(named[0].name, "function", named[0])
    choices = ", ".join(list(module.functions) + list(module.classes)) or "none"
    raise UsageError(f"the file has several candidates ({choices}); name one with FILE.py:NAME")


def _method(module: Module, owner: ast.ClassDef, names: tuple):
    methods = module.methods(owner)
    return next((methods[n] for n in names if n in methods), None)


def _class_entry(module: Module, owner: ast.ClassDef) -> Entry:
    forward, backward = _method(module, owner, FORWARD_NAMES), _method(module, owner, BACKWARD_NAMES)
    if forward is None or backward is None:
        raise UsageError(f"class {owner.name} has no forward() and backward(); name a method as {owner.name}.METHOD")
    bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in owner.bases}
    return Entry(owner.name, "autograd" if "Function" in bases and _is_static(backward) else "layer",
                 None, owner, forward, backward)


def _is_static(function: ast.FunctionDef) -> bool:
    return any(getattr(d, "id", None) == "staticmethod" for d in function.decorator_list)


def _params(function: ast.FunctionDef, *, skip_first: bool) -> tuple:
    """(parameter names, those with a default value)."""
    params = [a.arg for a in function.args.args]
    with_default = set(params[len(params) - len(function.args.defaults):])
    return (params[1:] if skip_first else params), with_default


def roles(entry: Entry, goal, signature: dict) -> dict:
    """Parameter name -> role for the inputs (the function's, or forward's for a class)."""
    function = entry.function if entry.kind in ("function", "method") else entry.forward
    return _roles(*_params(function, skip_first=entry.kind != "function"), function.name, goal, signature)


def backward_roles(entry: Entry, goal, signature: dict) -> dict:
    """For a class, backward's parameters: the upstream gradient (by name, else the first) and any inputs
    it takes again (prml's _backward(delta, x), backward(input, gradOutput))."""
    params, with_default = _params(entry.backward, skip_first=True)
    if not params:
        raise NotReadable("a backward() without an upstream-gradient parameter", entry.backward)
    named = {p: role_of(p, goal, signature) for p in params}
    upstream = next((p for p in params if named[p] == "upstream"), params[0])
    rest = _roles([p for p in params if p != upstream], with_default, entry.backward.name, goal, signature)
    return {upstream: "upstream", **rest}


def _roles(params: list, with_default: set, where: str, goal, signature: dict) -> dict:
    out = {}
    for param in params:
        role = role_of(param, goal, signature)
        if role is None and param in with_default:
            role = "ignore"  # an option of the code's own (alpha=None): its default is used
        if role is None:
            raise UsageError(f"parameter {param!r} of {where}(): role unknown; give --signature {param}=ROLE "
                             f"(logits, probs, upstream, targets, labels, W, b, x, T, epsilon, zero, ignore)")
        out[param] = role
    return out
