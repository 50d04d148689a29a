"""check-code without running anything: read the function, bind its inputs, prove each gradient it returns.

A recipe: parse the file's syntax tree -> pick the function (or autograd.Function / layer class) ->
for each layout (one example or a batch, W as K x D or D x K) bind the parameters by role and read
the body -> per returned gradient: the entry at the target's indices, labels as one-hot targets,
max z shown irrelevant, rows of a batch as examples -> prove (prover) or name the mistake (naming).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import sympy as sp

from .. import symbols as S
from ..check.mistakes import Mistake
from ..errors import UsageError
from . import arrays as A
from .arrays import Array, ShapeError
from .naming import code_mistake, name_mistake
from .problem import Part, RowsMixed, has_labels, is_jacobian, labels_to_targets, parts, per_row, probe, upstream_shape
from .prover import prove, without_max
from .reader import Function, Module, NotReadable, Obj, Reader, Tuple
from .signature import Layout, bind, layouts, role_of
from .verdict import CodeVerdict, from_counterexample

MAX_SOURCE_CHARS = 200_000
EXTREME_LOGITS = [1000.0, 0.0, -1000.0]
BACKWARD_WORDS = ("backward", "grad", "jacobian", "derivative", "vjp", "backprop")


@dataclass(frozen=True)
class Reading:
    """What one layout's reading returned: the gradient per part role, and what the reader noticed."""

    layout: Layout
    outputs: dict  # role -> Array
    warnings: tuple
    with_upstream: bool


def load(source: str, name: str | None) -> tuple:
    """(Module, the chosen FunctionDef or ClassDef); UsageError / NotReadable for bad input."""
    if len(source) > MAX_SOURCE_CHARS:
        raise NotReadable(f"the file is longer than {MAX_SOURCE_CHARS} characters")
    try:
        tree = ast.parse(source)  # syntax only: the parser builds a tree, nothing is executed
    except SyntaxError as error:
        raise NotReadable(f"Python syntax error: {error.msg}",
                          ast.Pass(lineno=error.lineno or 1, col_offset=max(0, (error.offset or 1) - 1))) from None
    module = Module(tree)
    return module, _entry(module, name)


def _entry(module: Module, name: str | None):
    if name:
        found = module.functions.get(name) or module.classes.get(name)
        if found is None:
            raise UsageError(f"no top-level function or class {name!r} in the file")
        return found
    with_backward = [c for c in module.classes.values() if "backward" in module.methods(c)]
    if len(with_backward) == 1:
        return with_backward[0]
    if len(module.functions) == 1 and not module.classes:
        return next(iter(module.functions.values()))
    named = [f for f in module.functions.values() if any(w in f.name.lower() for w in BACKWARD_WORDS)]
    if len(named) == 1:
        return named[0]
    choices = ", ".join(list(module.functions) + list(module.classes)) or "none"
    raise UsageError(f"the file has several candidates ({choices}); name one with FILE.py:FUNCTION")


def check_static(source: str, *, target: str, name: str | None = None, signature: dict | None = None) -> CodeVerdict:
    goal_parts = parts(target)
    try:
        module, entry = load(source, name)
        reading = read(module, entry, goal_parts, signature or {})
    except NotReadable as error:
        return CodeVerdict("unreadable", True, str(error))
    except _WrongShape as error:
        return CodeVerdict("incorrect", True, str(error), mistake=code_mistake("shape"))
    return _judge(reading, goal_parts, entry.name)


class _WrongShape(Exception):
    pass


def read(module: Module, entry, goal_parts: tuple, signature: dict) -> Reading:
    """The first layout the code reads under; the most advanced failure otherwise."""
    goal = goal_parts[0].target
    failures = []
    for layout in layouts(goal, roles_of(entry, module, goal, signature)):
        reader = Reader(module)
        try:
            return _read_layout(reader, module, entry, goal_parts, layout, signature)
        except (NotReadable, ShapeError) as error:
            failures.append((reader.nodes, error))
    _nodes, error = max(failures, key=lambda pair: pair[0])
    if isinstance(error, ShapeError) or "broadcast" in str(error):
        raise _WrongShape(f"{error} (under every layout tried)")
    raise error


def roles_of(entry, module: Module, goal, signature: dict) -> dict:
    nodes = [entry] if isinstance(entry, ast.FunctionDef) else [
        m for m in (module.methods(entry).get("forward"), module.methods(entry).get("backward")) if m]
    roles = {}
    for node in nodes:
        params = [a.arg for a in node.args.args]
        if not isinstance(entry, ast.FunctionDef):
            params = params[1:]  # ctx or self
        if node.name == "backward":
            continue
        for param in params:
            role = role_of(param, goal, signature)
            if role is None:
                raise UsageError(f"parameter {param!r} of {node.name}(): role unknown; give "
                                 f"--signature {param}=ROLE (logits, probs, upstream, targets, labels, W, b, x, ...)")
            roles[param] = role
    return roles


def _read_layout(reader: Reader, module: Module, entry, goal_parts: tuple, layout: Layout, signature: dict) -> Reading:
    goal = goal_parts[0].target
    roles = roles_of(entry, module, goal, signature)
    shape = upstream_shape(goal, layout.batched)
    args = [None if role == "ignore" else bind(role, goal, layout, upstream_shape=shape) for role in roles.values()]
    if isinstance(entry, ast.FunctionDef):
        params = [a.arg for a in entry.args.args]
        kwargs = {p: a for p, a in zip(roles, args) if roles[p] != "ignore" or p in ("self", "ctx")}
        kwargs = {p: (Obj() if p in ("self", "ctx") else a) for p, a in kwargs.items()}
        output = reader.call(Function(entry), [], kwargs)
        with_upstream = "upstream" in roles.values() and "g" not in goal.arrays
        outputs = _match_outputs(output, goal_parts, layout, with_upstream, list(params))
    else:
        methods = module.methods(entry)
        if "forward" not in methods:
            raise NotReadable("a class without forward()", entry)
        state = Obj()
        reader.call(Function(methods["forward"], entry), [state, *(a for a in args)])
        if shape is None:
            raise NotReadable("backward of a target that takes no upstream gradient", entry)
        upstream = bind("upstream", goal, layout, upstream_shape=shape)
        output = reader.call(Function(methods["backward"], entry), [state, upstream])
        with_upstream = "g" not in goal.arrays
        if isinstance(output, Tuple):  # autograd.Function: one gradient per forward input
            output = Tuple(tuple(item for item, role in zip(output.items, roles.values())
                                 if role in {p.role for p in goal_parts}))
        outputs = _match_outputs(output, goal_parts, layout, with_upstream, list(roles))
    return Reading(layout, outputs, tuple(reader.warnings), with_upstream)


def expected_shape(part: Part, layout: Layout, with_upstream: bool) -> tuple:
    rows = (S.N,) if layout.batched and "X" not in part.target.arrays else ()
    if part.role == "logits":
        return rows + ((S.K, S.K) if is_jacobian(part.target) and not with_upstream else (S.K,))
    return {"W": (S.D, S.K) if layout.w_transposed else (S.K, S.D), "b": (S.K,), "x": (S.D,)}[part.role]


def _squeezed(array: Array) -> Array:
    return A.squeeze(array) if any(size == 1 for size in array.shape) else array


def _match_outputs(output, goal_parts: tuple, layout: Layout, with_upstream: bool, _params) -> dict:
    items = [i for i in (output.items if isinstance(output, Tuple) else (output,)) if isinstance(i, Array)]
    if not items:
        raise NotReadable("the function returns no array")
    out = {}
    for part in goal_parts:
        wanted = expected_shape(part, layout, with_upstream)
        fits = [_squeezed(i) for i in items if _squeezed(i).shape == wanted]
        if fits:
            out[part.role] = fits[0]
        elif len(goal_parts) == 1:
            got = ", ".join("(" + ", ".join(map(str, _squeezed(i).shape)) + ")" for i in items)
            raise _WrongShape(f"the result has shape {got} where {tuple(map(str, wanted))} is expected "
                              f"(read as {layout.describe()})")
    if not out:
        raise NotReadable("no returned array has the shape of a gradient this target has")
    return out


def _judge(reading: Reading, goal_parts: tuple, function: str) -> CodeVerdict:
    notes, wrong = [], None
    for part in goal_parts:
        if part.role not in reading.outputs:
            continue
        try:
            outcome = _prove_part(reading, part)
        except NotReadable as error:
            return CodeVerdict("unreadable", True, str(error), function=function)
        notes.append(outcome[0])
        if outcome[1] is not None and wrong is None:
            wrong = outcome[1:]
    where = f"Read statically as {reading.layout.describe()}. "
    unstable = bool(reading.warnings)
    warning_text = " ".join(f"Unstable at line {w.line}, column {w.column}: {w.reason}." for w in reading.warnings)
    if wrong is not None:
        mistake, counterexample = wrong
        return CodeVerdict("incorrect", True, (where + " ".join(notes) + " " + warning_text).strip(), unstable,
                           mistake, counterexample, function)
    if unstable:
        w = reading.warnings[0]
        return CodeVerdict("unstable", True, (where + " ".join(notes) + " " + warning_text).strip(), True, None,
                           {"line": w.line, "column": w.column, "reason": w.reason,
                            "inputs": {"z": EXTREME_LOGITS}}, function)
    return CodeVerdict("correct", True, where + " ".join(notes), False, None, None, function)


def _prove_part(reading: Reading, part: Part) -> tuple:
    """(note, mistake or None, counterexample dict or None): wrong parts carry a mistake slot."""
    goal = part.target
    output = reading.outputs[part.role]
    if reading.layout.w_transposed and part.role == "W":
        output = A.transpose(output)
    checked = probe(goal, with_upstream=reading.with_upstream)
    indices = _entry_indices(checked)
    batched_rows = reading.layout.batched and "X" not in goal.arrays
    row = sp.Symbol("_row", integer=True, positive=True)
    expr = output.at(((row,) if batched_rows else ()) + indices)
    expr = labels_to_targets(expr, goal)
    if has_labels(expr):
        raise NotReadable("the integer labels are used other than as an index or one_hot")
    label = f"d/d{part.role}" if part.role != "logits" else checked.name
    note = ""
    if batched_rows:
        try:
            expr, note = per_row(expr, row)
        except RowsMixed:
            return (f"{label}: row n of the result reads other rows of the batch.", code_mistake("wrong-axis"), None)
    expr, shift_free = without_max(expr, checked)
    if not shift_free:
        return (f"{label}: the result changes with max z (the maximum is not subtracted everywhere).", None, None)
    proof = prove(expr, checked)
    if proof.agree:
        how = {"symbolic": "proved equal for every K (symbolic K, exact zero test)",
               "concrete": f"proved equal exactly at K = 2..5 (the symbolic proof did not close)",
               "numeric": "equal at 50 digits only (no exact proof closed)"}[proof.method]
        return (f"{label}: {how}; {proof.points} comparisons at 50 digits{'; ' + note if note else ''}.", None, None)
    mistake = _mistake(expr, checked, goal)
    found = f" Mistake: {mistake.id}." if mistake else ""
    return (f"{label}: incorrect ({proof.message or 'differs from the target'}).{found}",
            mistake, from_counterexample(proof.counterexample))


def _entry_indices(checked) -> tuple:
    from ..check.equivalence import entry_order
    return entry_order(checked)


def _mistake(expr, checked, goal) -> Mistake | None:
    try:
        return name_mistake(expr, checked, goal)
    except Exception as error:  # naming is a bonus: any failure leaves the verdict as it is
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return None
