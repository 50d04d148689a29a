"""check-code --run: call the function in the sandbox at adversarial inputs and judge what it returns.

A recipe: read the signature from the syntax tree (nothing executed here) -> for each layout, the
cases (probes.py) and their exact answers -> one sandboxed child calls the code on every case ->
compare per dtype tolerance; a non-finite or wrong answer only at extreme logits is "unstable"; a
wrong answer elsewhere is "incorrect", its mistake named by evaluating the catalogue's formulas.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import mpmath
import numpy as np

from .. import symbols as S
from ..check import mistakes as catalogue
from ..check.equivalence import entry_order
from ..check.mistakes import Mistake
from .naming import EXPLANATIONS as CODE_EXPLANATIONS, candidates as code_candidates, code_mistake
from .probes import cases, entries, sizes_at
from .entry import backward_roles, roles as entry_roles
from .problem import is_linear, parts, probe, upstream_shape, without_bias
from .reader import NotReadable
from .sandbox import NotRunnable, call
from .signature import layouts
from .static import expected_shape, load
from .verdict import CodeVerdict

TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (2e-3, 2e-5)}  # (relative, absolute)
FLOAT_ROLES = ("logits", "probs", "W", "b", "x")


def check_by_running(path: Path, *, target: str, name: str | None, signature: dict,
                     static_message: str = "") -> CodeVerdict:
    goal_parts = parts(target)
    goal = goal_parts[0].target
    try:
        module, entry = load(path.read_text(encoding="utf-8"), name)
        roles = entry_roles(entry, goal, signature)
        extra = backward_roles(entry, goal, signature) if entry.backward is not None else {}
    except NotReadable as error:
        return CodeVerdict("unreadable", False, str(error))
    kind = entry.kind
    framework = "torch" if any(v.split(".")[0] == "torch" for v in module.aliases.values()) else "numpy"
    takes_upstream = kind in ("layer", "autograd") or "upstream" in roles.values()
    bias_free = "b" not in roles.values()
    checked = {p.role: probe(without_bias(p.target) if bias_free and is_linear(p.target) else p.target,
                             with_upstream=takes_upstream) for p in goal_parts}
    prefix = f"Not read statically ({static_message.split('not read statically: ')[-1]}); run instead. "
    errors = []
    for layout in layouts(goal, roles):
        shape = upstream_shape(goal, layout.batched)
        chosen = cases(goal, next(iter(checked.values())), layout, uses_targets="targets" in roles.values())
        request = {"name": entry.name, "kind": kind, "framework": framework,
                   "method": entry.function.name if entry.function is not None else None,
                   "forward": entry.forward.name if entry.forward is not None else None,
                   "backward": entry.backward.name if entry.backward is not None else None,
                   "cases": [_request_case(c, roles, extra, layout, goal, kind, shape) for c in chosen]}
        try:
            answer = call(path, request)
        except NotRunnable as error:
            return CodeVerdict("unreadable", False, prefix + f"Not runnable: {error}")
        failed = [r["error"] for r in answer["results"] if "error" in r]
        if failed:
            errors.append(failed[0])
            continue
        return _judge([r["output"] for r in answer["results"]], chosen, goal_parts, checked, layout, roles, kind,
                      prefix, entry.name)
    return CodeVerdict("unreadable", False, prefix + f"Not runnable under any layout tried: {errors[0]}")


def _floats(values) -> list:
    return [float(v) for v in values]


def _matrix(m, transposed: bool = False) -> list:
    rows = [[float(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]
    return [list(col) for col in zip(*rows)] if transposed else rows


def _role_value(role: str, env, label: int, layout, goal):
    if role == "logits":
        return _floats(env.array("z"))
    if role == "probs":
        return _floats(env.array("sigma"))
    if role in ("targets", "labels") and (role == "labels" or layout.labels):
        if "Y" in env.arrays:
            Y = env.arrays["Y"]
            return [max(range(Y.cols), key=lambda c: Y[r, c]) for r in range(Y.rows)]
        return label
    if role == "targets":
        return _matrix(env.arrays["Y"]) if "Y" in env.arrays else _floats(env.array("y"))
    if role == "W":
        return _matrix(env.arrays["W"], layout.w_transposed)
    if role in ("b", "x"):
        return _matrix(env.arrays["X"]) if role == "x" and "X" in env.arrays else _floats(env.arrays[role])
    if role in ("T", "epsilon"):
        return float(env.scalars[S.T if role == "T" else S.epsilon])
    if role == "zero":
        return 0.0
    raise NotReadable(f"no value for a parameter of role {role!r} when running")


def _request_case(case, roles: dict, extra: dict, layout, goal, kind: str, shape) -> dict:
    def specs(chosen):
        out = []
        for role in chosen.values():
            if role == "ignore":
                continue
            if role == "upstream":
                value = _upstream(case, shape)
            else:
                values = [_role_value(role, env, label, layout, goal) for env, label in zip(case.envs, case.labels)]
                value = values if len(case.envs) > 1 else values[0]
            integer = role == "labels" or (role == "targets" and layout.labels)
            out.append({"data": value, "dtype": "int64" if integer else case.dtype,
                        "grad": kind == "autograd" and role in FLOAT_ROLES})
        return out
    upstream = {"data": _upstream(case, shape), "dtype": case.dtype} if kind in ("layer", "autograd") else None
    return {"args": specs(roles), "extra": specs(extra), "upstream": upstream}


def _upstream(case, shape):
    if shape == ():
        return float(case.envs[0].arrays["c"][0])
    rows = [_floats(env.arrays["g"]) for env in case.envs]
    return rows if len(case.envs) > 1 else rows[0]


def _expected(expr, part, check_target, env, layout) -> np.ndarray:
    order = entry_order(check_target)
    values = entries(expr, check_target, env, order, sizes_at(env, part.target))
    array = np.array(_to_float(values), dtype=float)
    return array.T if part.role == "W" and layout.w_transposed else array


def _to_float(values):
    return [_to_float(v) for v in values] if isinstance(values, list) else float(values)


def _outputs(output: dict, goal_parts, checked, layout, roles, kind) -> dict:
    items = output["items"] if output and output["kind"] == "tuple" else [output]
    if kind == "autograd":
        inputs = [role for role in roles.values() if role != "ignore"]
        return {role: np.array(item["value"]) for role, item in zip(inputs, items) if item is not None}
    out = {}
    for part in goal_parts:
        wanted = len(expected_shape(part, layout, with_upstream=checked[part.role] is not part.target))
        fits = [np.squeeze(np.array(i["value"])) for i in items if i is not None]
        fits = [f for f in fits if f.ndim == wanted]
        if fits:
            out[part.role] = fits[0]
    return out


def _judge(outputs, chosen, goal_parts, checked, layout, roles, kind, prefix, function) -> CodeVerdict:
    mean_note = ""
    for output, case in zip(outputs, chosen):
        got_by_role = _outputs(output, goal_parts, checked, layout, roles, kind)
        for part in goal_parts:
            if part.role not in got_by_role:
                continue
            got = got_by_role[part.role]
            expected = np.squeeze(np.array([_expected(checked[part.role].result, part, checked[part.role], env, layout)
                                            for env in case.envs]))
            if got.shape != expected.shape:
                return CodeVerdict("incorrect", False, prefix + f"The result has shape {got.shape} where "
                                   f"{expected.shape} is expected (K = {case.K}).", False, code_mistake("shape"),
                                   None, function)
            rtol, atol = TOLERANCE[case.dtype]
            close = np.allclose(got, expected, rtol=rtol, atol=atol)
            if not close and len(case.envs) > 1 and np.allclose(got * len(case.envs), expected, rtol=rtol, atol=atol):
                close, mean_note = True, " Read as the gradient of the batch mean (divided by N)."
            if close:
                continue
            finite = bool(np.all(np.isfinite(got)))
            where = _counterexample(case, roles, layout, part, expected, got)
            if kind in ("layer", "autograd"):
                where["inputs"]["upstream"] = _upstream(case, None if "g" in case.envs[0].arrays else ())
            if case.extreme:
                return CodeVerdict("unstable", False, prefix + f"At extreme logits (|z| ~ 1000, {case.dtype}) the "
                                   f"result is {'not finite' if not finite else 'wrong'}; correct at every other case.",
                                   True, None, where, function)
            mistake = _name(got, case, part, checked[part.role], layout)
            return CodeVerdict("incorrect", False, prefix + f"Wrong at K = {case.K} ({case.dtype}"
                               f"{', soft targets' if case.soft else ''}{', a batch' if len(case.envs) > 1 else ''})."
                               + (f" Mistake: {mistake.id}." if mistake else ""), False, mistake, where, function)
    return CodeVerdict("correct", False, prefix + f"Equal to the target at {len(chosen)} cases (K = 2, 3, 5; float32 "
                       f"and float64; random upstream gradients; extreme logits |z| ~ 1000; {layout.describe()})."
                       + mean_note, False, None, None, function)


def _counterexample(case, roles, layout, part, expected, got) -> dict:
    inputs = {}
    for param, role in roles.items():
        if role == "ignore":
            continue
        if role == "upstream":
            inputs[param] = _upstream(case, None if "g" in case.envs[0].arrays else ())
            continue
        values = [_role_value(role, env, label, layout, part.target) for env, label in zip(case.envs, case.labels)]
        inputs[param] = values if len(case.envs) > 1 else values[0]
    return {"K": case.K, "dtype": case.dtype, "inputs": inputs, "expected": _rounded(expected), "got": _rounded(got)}


def _rounded(array: np.ndarray):
    return [(_rounded(v) if isinstance(v, np.ndarray) else (round(float(v), 9) if np.isfinite(v) else str(v)))
            for v in array] if array.ndim else float(array)


def _name(got, case, part, check_target, layout) -> Mistake | None:
    """The first wrong formula whose values match the code's at this case; else sign or a constant factor."""
    with mpmath.workdps(30):
        formulas = [(mid, f, "") for mid, f in code_candidates(check_target, part.target)]
        for mistake_id, formula, note in formulas + list(catalogue.candidates(check_target)):
            try:
                values = np.squeeze(np.array([_expected(formula, part, replace(check_target, result=formula), env,
                                                        layout) for env in case.envs]))
            except (ValueError, TypeError, ArithmeticError, NotReadable):
                continue
            scaled = got * len(case.envs)  # a batch mean: the per-example formula divided by N
            if values.shape == got.shape and any(np.allclose(g, values, rtol=1e-6, atol=1e-9) for g in (got, scaled)):
                return code_mistake(mistake_id) if mistake_id in CODE_EXPLANATIONS else catalogue.mistake(mistake_id, note)
    return None
