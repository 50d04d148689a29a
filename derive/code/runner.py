"""check-code --run: call the function in the sandbox at adversarial inputs and judge what it returns.

A recipe: read the signature from the syntax tree (nothing executed here) -> for each layout, the
cases (probes.py) and their exact answers -> one sandboxed child calls the code on every case ->
compare per dtype tolerance; a non-finite or wrong answer only at extreme logits is "unstable"; a
wrong answer elsewhere is "incorrect", its mistake named by evaluating the catalogue's formulas; so is a
right answer that changes when the same inputs are passed again (state kept between calls).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from .. import symbols
from ..check import mistakes as catalogue
from ..check.equivalence import ShapeMismatch, entry_order
from ..numeric.evaluate import EvaluationError
from ..check.mistakes import Mistake
from .naming import EXPLANATIONS as CODE_EXPLANATIONS, candidates as code_candidates, code_mistake
from ..check.points import fresh_seed
from .probes import INTEGER, cases, entries, repeat_order, sizes_at
from .entry import backward_roles, roles as entry_roles
from .problem import is_batch_target, is_jacobian, is_linear, parts, probe, upstream_shape, without_bias
from .values import NotReadable
from .sandbox import NotRunnable, call
from .signature import layouts
from .static import load
from .verdict import CodeVerdict

TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (2e-3, 2e-5)}  # (relative, absolute)
FLOAT_ROLES = ("logits", "probs", "W", "b", "x")
JUDGED = ("correct", "incorrect", "unstable")  # verdicts that called the code at the drawn cases
# Errors a wrong layout causes (shapes, dtypes, indices); any other error ends the search.
LAYOUT_ERRORS = ("ValueError", "TypeError", "IndexError", "RuntimeError", "AxisError", "numpy.exceptions.AxisError")


def check_by_running(path: Path, *, target: str, name: str | None, signature: dict,
                     static_message: str = "", seed: int | None = None) -> CodeVerdict:
    """The verdict of calling the code at the fixed cases and the drawn ones of `seed` (default: a fresh one)."""
    seed = fresh_seed() if seed is None else seed
    verdict = _check(path, target, name, signature, static_message, seed)
    if verdict.verdict not in JUDGED:
        return verdict
    replay = f" Drawn cases: seed {seed} (--seed {seed} replays them)."
    return replace(verdict, seed=seed, message=verdict.message + replay)


def _check(path: Path, target: str, name: str | None, signature: dict, static_message: str, seed: int) -> CodeVerdict:
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
    bias_free = is_linear(goal) and "b" not in roles.values()
    checked = {p.role: probe(without_bias(p.target) if bias_free else p.target, with_upstream=takes_upstream)
               for p in goal_parts}
    setup = _Setup(path, entry, kind, framework, roles, extra, goal_parts, checked, bias_free, seed,
                   prefix=f"Not read statically ({static_message.split('not read statically: ')[-1]}); run instead. "
                   if static_message else "Run. ")
    errors, partial = [], []
    for layout in layouts(goal, roles):
        outcome = _run_layout(setup, layout)
        if isinstance(outcome, str):
            errors.append(outcome)
            if not outcome.startswith(LAYOUT_ERRORS):
                break  # a NameError or AttributeError does not depend on the shapes: another layout will not help
            continue
        if isinstance(outcome, _Partial):  # sizes that happen to fit (K = D): another layout may take every case
            partial.append(outcome)
            continue
        if outcome.verdict != "correct" or layout.batched or is_batch_target(goal) or not module.batch_intent:
            return outcome
        batched = _run_layout(setup, replace(layout, batched=True, also_single=True))  # rows code: a batch too
        batched = batched.verdict if isinstance(batched, _Partial) else batched
        if isinstance(batched, str):
            return outcome
        if batched.verdict == "correct":
            return batched
        mistake = batched.mistake or code_mistake("wrong-axis")
        return replace(batched, message=batched.message.replace(setup.prefix, setup.prefix + "Right for one "
                       "example, wrong on a batch of rows. "), mistake=mistake)
    if partial:
        return max(partial, key=lambda p: p.ran).verdict
    return CodeVerdict("unreadable", False, setup.prefix + f"Not runnable under any layout tried: {errors[0]}")


@dataclass(frozen=True)
class _Partial:
    """A layout the code ran at some cases and raised at others."""

    verdict: CodeVerdict
    ran: int


@dataclass(frozen=True)
class _Setup:
    path: Path
    entry: object
    kind: str
    framework: str
    roles: dict
    extra: dict
    goal_parts: tuple
    checked: dict
    bias_free: bool
    seed: int  # of the drawn cases
    prefix: str


def _run_layout(setup: _Setup, layout):
    """A verdict, or the error text when the code raises at every case (it does not take this layout)."""
    goal = setup.goal_parts[0].target
    shape = upstream_shape(goal, layout.batched)
    chosen = cases(goal, next(iter(setup.checked.values())), layout, uses_targets="targets" in setup.roles.values(),
                   seed=setup.seed, bias_free=setup.bias_free)
    entry = setup.entry
    request = {"name": entry.name, "kind": setup.kind, "framework": setup.framework,
               "method": entry.function.name if entry.function is not None else None,
               "forward": entry.forward.name if entry.forward is not None else None,
               "backward": entry.backward.name if entry.backward is not None else None,
               "cases": [_request_case(c, setup.roles, setup.extra, layout, goal, setup.kind, shape) for c in chosen],
               "repeats": repeat_order(len(chosen), setup.seed)}
    try:
        answer = call(setup.path, request)
    except NotRunnable as error:
        return CodeVerdict("unreadable", False, setup.prefix + f"Not runnable: {error}")
    # Code written for float logits may refuse integer ones: that case is left out, not failed.
    kept = [(r, case) for r, case in zip(answer["results"], chosen) if not ("error" in r and case.shape == INTEGER)]
    failed = [(r["error"], case) for r, case in kept if "error" in r]
    if len(failed) == len(kept):
        return failed[0][0]
    if failed:  # it takes these inputs, but raises at some of them
        error, case = failed[0]
        return _Partial(CodeVerdict("incorrect", False, setup.prefix + f"Raises at K = {case.K} ({layout.describe()}"
                                    f"{_drawn_note(case)}): {error}", False,
                                    code_mistake("shape") if "broadcast" in error else None, None,
                                    setup.entry.name), len(kept) - len(failed))
    verdict = _judge([r["output"] for r, _ in kept], [case for _, case in kept], setup, layout)
    if verdict.verdict != "correct":
        return verdict
    if len(kept) < len(chosen):
        verdict = replace(verdict, message=verdict.message + " It raises at integer logits (int64); that is allowed.")
    return _changed(answer, request["repeats"], chosen, setup, layout) or verdict


def _changed(answer: dict, repeats: list, chosen: list, setup: _Setup, layout) -> CodeVerdict | None:
    """Incorrect when a call in the second round returned other than the first call on the same inputs."""
    first = answer["results"]
    for number, (index, again) in enumerate(zip(repeats, answer["repeated"]), start=len(first) + 1):
        if _same(first[index], again, chosen[index], setup):
            continue
        case = chosen[index]
        before, after = (_first_array(r, setup) for r in (first[index], again))
        where = (_counterexample(case, setup.roles, layout, setup.goal_parts[0], before, after)
                 if before is not None and after is not None and before.shape == after.shape else None)
        return CodeVerdict("incorrect", False, setup.prefix + f"Gave a different result when called again on the same "
                           f"inputs (call {number} repeats call {index + 1}: K = {case.K}{_drawn_note(case)}); it keeps "
                           "state between calls. The counterexample's expected value is the first call's, which was "
                           "right.", False, None, where, setup.entry.name)
    return None


def _same(first: dict, again: dict, case, setup: _Setup) -> bool:
    """The same error, or the same arrays within the tolerance a right answer has at this case."""
    if "output" not in first or "output" not in again:
        return first.get("error") == again.get("error")
    before, after = _items(first["output"], setup), _items(again["output"], setup)
    rtol, atol = TOLERANCE[case.dtype]
    return len(before) == len(after) and all(
        (b is None and a is None) or (b is not None and a is not None and b.shape == a.shape
                                      and np.allclose(b, a, rtol=rtol, atol=atol, equal_nan=True))
        for b, a in zip(before, after))


def _first_array(result: dict, setup: _Setup):
    """The first array a call returned (for a counterexample), or None after an error."""
    return next((item for item in _items(result["output"], setup) if item is not None), None) if "output" in result \
        else None


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
        return float(env.scalars[symbols.T if role == "T" else symbols.epsilon])
    if role == "zero":
        return 0.0
    raise NotReadable(f"no value for a parameter of role {role!r} when running")


def _request_case(case, roles: dict, extra: dict, layout, goal, kind: str, shape) -> dict:
    def specs(chosen):
        out = []
        for name, role in chosen.items():
            if role == "ignore":
                continue
            if role == "upstream":
                value = _upstream(case, shape)
            else:
                values = [_role_value(role, env, label, layout, goal) for env, label in zip(case.envs, case.labels)]
                value = values if len(case.envs) > 1 else values[0]
            integer = role == "labels" or (role == "targets" and layout.labels)
            dtype = case.logits_dtype if role == "logits" else case.dtype
            out.append({"name": name, "data": value, "dtype": "int64" if integer else dtype,
                        "grad": kind == "autograd" and role in FLOAT_ROLES})
        return out
    upstream = {"data": _upstream(case, shape), "dtype": case.dtype} if kind == "autograd" else None
    return {"args": specs(roles), "backward": specs(extra), "upstream": upstream}


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


def _items(output: dict, setup: _Setup) -> list:
    items = output["items"] if output and output["kind"] == "tuple" else [output]
    return [np.squeeze(np.array(i["value"])) if i is not None else None for i in items]


def _pick(items: list, used: set, expected: np.ndarray, part, setup: _Setup, roles_order: list):
    """The returned array for this part: by input position for autograd, else by shape and then by value."""
    if setup.kind == "autograd":
        position = roles_order.index(part.role) if part.role in roles_order else None
        return items[position] if position is not None and position < len(items) else None
    fits = [r for r, item in enumerate(items) if item is not None and r not in used and item.shape == expected.shape]
    if not fits:
        return None
    best = min(fits, key=lambda r: float(np.nan_to_num(np.max(np.abs(items[r] - expected)), nan=np.inf)))
    used.add(best)
    return items[best]


def _judge(outputs, chosen, setup: _Setup, layout) -> CodeVerdict:
    mean_note = ""
    roles_order = [role for role in setup.roles.values() if role != "ignore"]
    for output, case in zip(outputs, chosen):
        items, used = _items(output, setup), set()
        for part in setup.goal_parts:
            check_target = setup.checked[part.role]
            expected = np.squeeze(np.array([_expected(check_target.result, part, check_target, env, layout)
                                            for env in case.envs]))
            got = _pick(items, used, expected, part, setup, roles_order)
            if got is None and len(setup.goal_parts) > 1:
                continue  # this function returns only some of the target's gradients
            if got is None or got.shape != expected.shape:
                return _wrong_shape(items, expected, case, part, setup, layout)
            rtol, atol = TOLERANCE[case.dtype]
            close = np.allclose(got, expected, rtol=rtol, atol=atol)
            if not close and len(case.envs) > 1 and np.allclose(got * len(case.envs), expected, rtol=rtol, atol=atol):
                close, mean_note = True, " Read as the gradient of the batch mean (divided by N)."
            if close:
                continue
            where = _counterexample(case, setup.roles, layout, part, expected, got)
            if setup.kind in ("layer", "autograd"):
                where["inputs"]["upstream"] = _upstream(case, None if "g" in case.envs[0].arrays else ())
            if case.extreme:
                finite = bool(np.all(np.isfinite(got)))
                return CodeVerdict("unstable", False, setup.prefix + f"At extreme logits (|z| ~ 1000, {case.dtype}) "
                                   f"the result is {'not finite' if not finite else 'wrong'}; correct at every other "
                                   "case.", True, None, where, setup.entry.name)
            mistake = _name(got, expected, case, part, check_target, layout)
            return CodeVerdict("incorrect", False, setup.prefix + f"Wrong at K = {case.K} ({case.dtype}"
                               f"{', soft targets' if case.soft else ''}{', a batch' if len(case.envs) > 1 else ''}"
                               f"{_drawn_note(case)})."
                               + (f" Mistake: {mistake.id}." if mistake else ""), False, mistake, where,
                               setup.entry.name)
    fixed = [case for case in chosen if not case.drawn]
    drawn = [case for case in chosen if case.spread is not None]
    shaped = [case for case in chosen if case.shape is not None]
    tried = [f"K = {_listed(c.K for c in fixed)}", "float32 and float64",
             f"K = {_listed(c.K for c in drawn)} at logit spreads {min(c.spread for c in drawn):.3g} to "
             f"{max(c.spread for c in drawn):.3g} (drawn)",
             "; ".join(f"K = {c.K} with {c.shape}" for c in shaped) + " (drawn)"]
    arrays = next(iter(setup.checked.values())).arrays
    tried += ["random upstream gradients"] if "g" in arrays else (["a random upstream scalar"] if "c" in arrays else [])
    tried += ["one-hot and soft targets"] if any(case.soft for case in chosen) else []
    tried += ["extreme logits |z| ~ 1000", "every case called a second time with the same result", layout.describe()]
    return CodeVerdict("correct", False, setup.prefix + f"Equal to the target at {len(chosen)} cases "
                       f"({'; '.join(tried)}).{mean_note}", False, None, None, setup.entry.name)


def _listed(Ks) -> str:
    return ", ".join(str(K) for K in dict.fromkeys(Ks))


def _drawn_note(case) -> str:
    """Which drawn case is meant: its logit spread or its logits' shape (the seed is in the verdict)."""
    if case.shape is not None:
        return f", {case.shape}"
    return "" if case.spread is None else f", logit spread {case.spread:.4g}"


def _wrong_shape(items, expected, case, part, setup: _Setup, layout) -> CodeVerdict:
    """No returned array has the gradient's shape; a vector for a Jacobian may be its diagonal."""
    goal = part.target
    vectors = [item for item in items if item is not None and item.shape == expected.shape[:-1]]
    if part.role == "logits" and is_jacobian(goal) and setup.checked["logits"] is goal and vectors:
        i, j = goal.free
        diagonal = replace(goal, result=goal.result.xreplace({j: i}), free=(i,), lhs=sp.Derivative(symbols.L, symbols.z[i]))
        values = np.squeeze(np.array([_expected(diagonal.result, part, diagonal, env, layout) for env in case.envs]))
        if np.allclose(vectors[0], values, rtol=1e-6, atol=1e-9):
            return CodeVerdict("incorrect", False, setup.prefix + "A vector where the K x K Jacobian is expected: "
                               "its diagonal.", False, code_mistake("diagonal-only"), None, setup.entry.name)
    shapes = ", ".join(str(item.shape) for item in items if item is not None) or "nothing"
    return CodeVerdict("incorrect", False, setup.prefix + f"Returns {shapes} where {expected.shape} is expected "
                       f"(K = {case.K}, {layout.describe()}).", False, code_mistake("shape"), None, setup.entry.name)


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


def _name(got, expected, case, part, check_target, layout) -> Mistake | None:
    """The code-specific slips, then sign or a constant factor, then the catalogue's wrong formulas."""
    code = [(mid, f, "") for mid, f in code_candidates(check_target, part.target)]
    found = _matching(code, got, case, part, check_target, layout)
    if found is not None:
        return found
    ratio = _constant_ratio(got, expected)
    if ratio is not None:
        return catalogue.mistake("sign") if abs(ratio + 1) < 1e-6 else catalogue.mistake(
            "scale", ("note_scale", {"factor": f"{ratio:.6g}"}))
    return _matching(catalogue.candidates(check_target), got, case, part, check_target, layout)


def _matching(formulas, got, case, part, check_target, layout) -> Mistake | None:
    """The first formula whose values at this case are the code's (or N times them: a batch mean)."""
    with mpmath.workdps(30):
        for mistake_id, formula, note in formulas:
            try:
                values = np.squeeze(np.array([_expected(formula, part, replace(check_target, result=formula), env,
                                                        layout) for env in case.envs]))
            except (ValueError, TypeError, ArithmeticError, EvaluationError, ShapeMismatch):
                continue
            scaled = got * len(case.envs)
            if values.shape == got.shape and any(np.allclose(g, values, rtol=1e-6, atol=1e-9) for g in (got, scaled)):
                return code_mistake(mistake_id) if mistake_id in CODE_EXPLANATIONS else catalogue.mistake(mistake_id, note)
    return None


def _constant_ratio(got: np.ndarray, expected: np.ndarray):
    mask = np.abs(expected) > 1e-6
    if not mask.any() or not np.all(np.isfinite(got)):
        return None
    ratios = got[mask] / expected[mask]
    first = float(ratios.flat[0])
    if abs(first - 1) < 1e-6 or not np.allclose(ratios, first, rtol=1e-6) or not np.allclose(got[~mask], 0, atol=1e-9):
        return None
    return first
