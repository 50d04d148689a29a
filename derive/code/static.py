"""check-code without running anything: read the function, bind its inputs, prove each gradient it returns.

A recipe: parse the file's syntax tree -> pick the function, method or class (entry.py) -> for each
layout (one example or a batch, W as K x D or D x K) bind the parameters by role and read the body ->
per returned gradient: the entry at the target's indices, labels as one-hot targets, max z shown
irrelevant, rows of a batch as examples -> prove (prover) or name the mistake (naming).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from .. import symbols
from ..check.equivalence import CheckTimeout, ShapeMismatch, Undecided, entry_order, time_limit
from ..check.mistakes import Mistake
from ..numeric.evaluate import EvaluationError
from . import arrays as A
from .arrays import Array, ShapeError
from .entry import STORED_GRADIENTS, Entry, backward_roles, find, parse, roles
from .naming import code_mistake, name_mistake
from .problem import (Part, RowsMixed, has_labels, mixed_message, is_batch_target, is_jacobian, is_linear, labels_to_targets, parts, per_row, probe,
                      upstream_shape, without_bias)
from .prover import prove, without_max
from .reader import Reader
from .values import Function, Module, NotReadable, Obj, Tuple
from .signature import Layout, bind, layouts
from .verdict import CodeVerdict, from_counterexample

EXTREME_LOGITS = [1000.0, 0.0, -1000.0]
PROOF_SECONDS = 30.0  # a bound for pathological code (huge sums); the corpus takes well under a second each


@dataclass(frozen=True)
class Reading:
    """What one layout's reading returned: the gradient per part role, and what the reader noticed."""

    layout: Layout
    outputs: dict  # role -> Array
    warnings: tuple
    with_upstream: bool
    has_bias: bool


class _WrongShape(Exception):
    pass


def load(source: str, name: str | None) -> tuple:
    """(Module, Entry); UsageError / NotReadable for bad input."""
    module = parse(source)
    return module, find(module, name)


def check_static(source: str, *, target: str, name: str | None = None, signature: dict | None = None) -> CodeVerdict:
    goal_parts = parts(target)
    try:
        module, entry = load(source, name)
        reading = read(module, entry, goal_parts, signature or {})
    except NotReadable as error:
        return CodeVerdict("unreadable", True, str(error))
    except _WrongShape as error:
        return CodeVerdict("incorrect", True, str(error), mistake=code_mistake("shape"))
    try:
        with time_limit(PROOF_SECONDS):
            return _judge(reading, goal_parts, entry.name)
    except (CheckTimeout, Undecided, RecursionError) as error:
        return CodeVerdict("undecided", True, f"Read statically as {reading.layout.describe()}; undecided: {error}.")


def read(module: Module, entry: Entry, goal_parts: tuple, signature: dict) -> Reading:
    """The first layout the code reads under; the most advanced failure otherwise."""
    goal = goal_parts[0].target
    failures = []
    for layout in layouts(goal, roles(entry, goal, signature)):
        reader = Reader(module)
        try:
            reading = _read_layout(reader, module, entry, goal_parts, layout, signature)
        except (NotReadable, ShapeError) as error:
            failures.append((reader.nodes, error))
            continue
        if layout.batched or is_batch_target(goal) or not module.batch_intent:
            return reading
        return _also_batched(module, entry, goal_parts, replace(layout, batched=True, also_single=True), signature,
                             reading)
    _nodes, error = max(failures, key=lambda pair: pair[0])
    if isinstance(error, ShapeError) or "broadcast" in str(error):
        raise _WrongShape(f"{error} (under every layout tried)")
    raise error


def _also_batched(module: Module, entry: Entry, goal_parts: tuple, layout: Layout, signature: dict,
                  single: Reading) -> Reading:
    """Code written for rows (axis=-1, keepdims) must also be right on a batch: read it so when it can be."""
    try:
        return _read_layout(Reader(module), module, entry, goal_parts, layout, signature)
    except (NotReadable, ShapeError) as error:
        if "broadcast" in str(error):
            raise _WrongShape(f"right for one example, but on a batch of N rows: {error}") from None
        return single


def _value(role: str, goal, layout: Layout, shape):
    if role == "ignore":
        return None
    if role == "zero":  # a hyperparameter the target does not have (a regularisation strength)
        return A.scalar(sp.Integer(0), "const")
    return bind(role, goal, layout, upstream_shape=shape)


def _instance(reader: Reader, module: Module, owner) -> Obj:
    """self, with the attributes a no-argument __init__ sets (self.axis = -1); an unreadable __init__ sets none."""
    state = Obj()
    init = module.methods(owner).get("__init__")
    if init is not None:
        try:
            reader.call(Function(init, owner), [state])
        except NotReadable:
            state.attributes.clear()
    return state


def _stored(output, state: Obj):
    """A backward that returns nothing leaves its gradient in self.dinputs (nnfs), self.dx, ..."""
    if output is not None:
        return output
    for name in STORED_GRADIENTS:
        if name in state.attributes:
            return state.attributes[name]
    return None


def _read_layout(reader: Reader, module: Module, entry: Entry, goal_parts: tuple, layout: Layout,
                 signature: dict) -> Reading:
    goal = goal_parts[0].target
    inputs = roles(entry, goal, signature)
    shape = upstream_shape(goal, layout.batched)
    args = {p: v for p, v in ((p, _value(r, goal, layout, shape)) for p, r in inputs.items()) if v is not None}
    if entry.kind in ("function", "method"):
        state = _instance(reader, module, entry.owner) if entry.kind == "method" else None
        output = reader.call(Function(entry.function, entry.owner), [state] if state else [], args)
        output = _stored(output, state) if state else output
        with_upstream = "upstream" in inputs.values() and "g" not in goal.arrays
    else:
        if shape is None:
            raise NotReadable("backward of a target that takes no upstream gradient", entry.backward)
        state = Obj() if entry.kind == "autograd" else _instance(reader, module, entry.owner)
        reader.call(Function(entry.forward, entry.owner), [state], args)
        backward = {p: _value(r, goal, layout, shape) for p, r in backward_roles(entry, goal, signature).items()}
        backward = {p: v for p, v in backward.items() if v is not None}
        output = _stored(reader.call(Function(entry.backward, entry.owner), [state], backward), state)
        with_upstream = "g" not in goal.arrays
        if entry.kind == "autograd" and isinstance(output, Tuple):  # one gradient per forward input
            wanted = {p.role for p in goal_parts}
            output = Tuple(tuple(item for item, role in zip(output.items, inputs.values()) if role in wanted))
    outputs = _match_outputs(output, goal_parts, layout, with_upstream)
    # A warning counts only if the returned gradient holds the flagged value (not a loss computed beside it).
    warnings = tuple(w for w in reader.warnings if any(out.entry.find(w.pattern) for out in outputs.values()))
    return Reading(layout, outputs, warnings, with_upstream, "b" in inputs.values())


def expected_shape(part: Part, layout: Layout, with_upstream: bool) -> tuple:
    rows = (symbols.N,) if layout.batched and not is_batch_target(part.target) else ()
    if part.role == "logits":
        return rows + ((symbols.K, symbols.K) if is_jacobian(part.target) and not with_upstream else (symbols.K,))
    return {"W": (symbols.D, symbols.K) if layout.w_transposed else (symbols.K, symbols.D), "b": (symbols.K,), "x": (symbols.D,)}[part.role]


def _squeezed(array: Array) -> Array:
    return A.squeeze(array) if any(size == 1 for size in array.shape) else array


def _match_outputs(output, goal_parts: tuple, layout: Layout, with_upstream: bool) -> dict:
    items = [i for i in (output.items if isinstance(output, Tuple) else (output,)) if isinstance(i, Array)]
    if not items:
        raise NotReadable("the function returns no array")
    out = {}
    for part in goal_parts:
        wanted = expected_shape(part, layout, with_upstream)
        fits = [_squeezed(i) for i in items if _squeezed(i).shape == wanted]
        if not fits and wanted[-2:] == (symbols.K, symbols.K):  # a Jacobian given as its diagonal
            fits = [_squeezed(i) for i in items if _squeezed(i).shape == wanted[:-1]]
        if fits:
            out[part.role] = fits[0]
        elif len(goal_parts) == 1:
            got = ", ".join("(" + ", ".join(map(str, _squeezed(i).shape)) + ")" for i in items)
            raise _WrongShape(f"the result has shape {got} where ({', '.join(map(str, wanted))}) is expected "
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
            note, mistake, counterexample, failed = _prove_part(reading, part)
        except NotReadable as error:
            return CodeVerdict("unreadable", True, str(error), function=function)
        notes.append(note)
        if failed and wrong is None:
            wrong = (mistake, counterexample)
    bias = "" if reading.has_bias or not is_linear(goal_parts[0].target) else ", no bias (b = 0)"
    text = f"Read statically as {reading.layout.describe()}{bias}. " + " ".join(notes)
    warnings = " ".join(f"Unstable at line {w.line}, column {w.column}: {w.reason}." for w in reading.warnings)
    message = (text + " " + warnings).strip()
    unstable = bool(reading.warnings)
    if wrong is not None:
        return CodeVerdict("incorrect", True, message, unstable, wrong[0], wrong[1], function)
    if unstable:
        w = reading.warnings[0]
        return CodeVerdict("unstable", True, message, True, None, {"line": w.line, "column": w.column,
                           "reason": w.reason, "inputs": {"z": EXTREME_LOGITS}}, function)
    return CodeVerdict("correct", True, message, False, None, None, function)


def _prove_part(reading: Reading, part: Part) -> tuple:
    """(note, mistake, counterexample dict, failed)."""
    goal = part.target if reading.has_bias or not is_linear(part.target) else without_bias(part.target)
    output = reading.outputs[part.role]
    if reading.layout.w_transposed and part.role == "W":
        output = A.transpose(output)
    checked = probe(goal, with_upstream=reading.with_upstream)
    diagonal = part.role == "logits" and is_jacobian(goal) and not reading.with_upstream and \
        output.ndim == (2 if reading.layout.batched else 1)
    if diagonal:  # a Jacobian returned as a vector: at best its diagonal
        i, j = goal.free
        checked = replace(goal, result=goal.result.xreplace({j: i}), free=(i,), lhs=sp.Derivative(symbols.L, symbols.z[i]))
    batched_rows = reading.layout.batched and not is_batch_target(goal)
    row = sp.Symbol("_row", integer=True, positive=True)
    expr = output.at(((row,) if batched_rows else ()) + entry_order(checked))
    expr = labels_to_targets(expr, goal)
    if has_labels(expr):
        raise NotReadable("the integer labels are used other than as an index or one_hot")
    label = f"dL/d{part.role}" if part.role != "logits" else checked.name
    note = ""
    if batched_rows:
        try:
            expr, note = per_row(expr, row)
        except RowsMixed as error:
            text, wrong_axis = mixed_message(error)
            return f"{label}: {text}.", code_mistake("wrong-axis") if wrong_axis else None, None, True
    expr, shift_free = without_max(expr, checked)
    if not shift_free:
        return f"{label}: the result changes with max z (it is not subtracted everywhere).", None, None, True
    proof = prove(expr, checked)
    if diagonal:
        if proof.agree:
            return (f"{goal.name}: a vector where the K x K Jacobian is expected; it is the Jacobian's diagonal.",
                    code_mistake("diagonal-only"), None, True)
        return f"{goal.name}: a vector where the K x K Jacobian is expected.", code_mistake("shape"), None, True
    if proof.agree:
        how = {"symbolic": "proved equal for every K (symbolic K, exact zero test)",
               "concrete": "proved equal exactly at K = 2..5 (the symbolic proof did not close)",
               "numeric": "equal at 50 digits only (no exact proof closed)"}[proof.method]
        return f"{label}: {how}; {proof.points} comparisons at 50 digits{'; ' + note if note else ''}.", None, None, False
    mistake = _mistake(expr, checked, goal)
    found = f" Mistake: {mistake.id}." if mistake else ""
    return (f"{label}: incorrect ({proof.message or 'differs from the target'}).{found}", mistake,
            from_counterexample(proof.counterexample), True)


def _mistake(expr, checked, goal) -> Mistake | None:
    """Naming is a bonus: a check that cannot finish leaves the verdict as it is."""
    try:
        return name_mistake(expr, checked, goal)
    except (CheckTimeout, ShapeMismatch, EvaluationError, ValueError, TypeError, ArithmeticError):
        return None
