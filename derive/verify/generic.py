"""The generic verifier: each equality in the logits (sigma by its definition), mpmath at test points.

Used for symbolic K and for concrete derivations not written over S (derive.verify.concrete). A
step whose sides differ numerically raises VerificationError.
"""
from __future__ import annotations

import dataclasses

import mpmath
import sympy as sp
from sympy.tensor.indexed import IndexException

from ..algebra.rewrites import (evaluate_derivatives, pull_constants_out_of_sums, ranged_facts,
                                resolve_piecewise, same_dummy, sum_out_deltas)
from ..algebra.zero_test import is_zero
from ..engine.common import matrix_entries_to_indexed
from ..model import Derivation, Semantics, Step
from ..numeric.state import EvaluationError
from ..numeric.evaluate import compile_expr
from ..numeric.points import PointSpec, environments
from ..settings import PRECISION_DIGITS, TARGETS_SUM_TO_ONE
from ..errors import VerificationError
from ..symbols import K, i, j, k, softmax_definitions, y
from .outcome import checked_step, explicit_targets_sum_to_one, relative_error, row
from .reporting import reported

_FREE_INDEX_SYMBOLS = (i, j)


def verify_derivation(derivation: Derivation) -> Derivation:
    """The derivation with evidence attached to every step (or raise VerificationError)."""
    memo: dict = {}  # steps share their left side: its normal form and values are computed once per derivation
    steps = tuple(reported((verify_step(step, K_value=derivation.K, definitions=derivation.definitions,
                                        semantics=derivation.semantics, memo=memo)
                            for step in derivation.steps), len(derivation.steps)))
    return dataclasses.replace(derivation, steps=steps)


def with_definitions(step: Step, definitions: tuple) -> Step:
    """Replace defined symbols (the loss L) by what they stand for: checks need the meaning."""
    if not definitions:
        return step
    mapping = dict(definitions)
    return dataclasses.replace(step, lhs=_substitute(step.lhs, mapping), rhs=_substitute(step.rhs, mapping))


def _substitute(expr, mapping):
    """xreplace that also reaches inside unevaluated Derivatives without evaluating them."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative),
                        lambda d: sp.Derivative(d.expr.xreplace(mapping), *d.variable_count, evaluate=False)
                        ).xreplace(mapping)


def verify_step(step: Step, *, K_value: int | None, definitions: tuple = (), semantics: Semantics | None = None,
                memo: dict | None = None) -> Step:
    """The step with its Evidence attached, or VerificationError when SymPy or the numbers refute it.

    `memo` is shared by the steps of one derivation (same K, definitions and semantics): the normal
    form of an entry that recurs (a Jacobian's left side, every step) is computed once."""
    checked = with_definitions(step, definitions)
    symbolic = prove_equal(checked, n=K_value, semantics=semantics, memo=memo)
    try:
        error, points = numeric_max_error(checked, K_value=K_value, semantics=semantics, memo=memo)
    except EvaluationError as failure:  # e.g. x_i with i > D: the step is wrong, not the program
        raise VerificationError(f"step {step.rule.value} ({step.note}) cannot be evaluated: {failure}") from None
    return checked_step(step, symbolic, error, points)


# --- numeric ----------------------------------------------------------------------------------

def numeric_max_error(step: Step, *, K_value: int | None, semantics: Semantics | None = None,
                      memo: dict | None = None) -> tuple:
    """Max |lhs - rhs| over all test points, at PRECISION_DIGITS digits.

    With a `memo` (one derivation's steps: same K and semantics), the left side's values are kept
    per (left side, points): the steps of a chain share their left side, often a derivative that
    mpmath differentiates numerically, by far the dearest thing to evaluate. The points are seeded,
    so the same spec gives the same points."""
    # atoms, not free_symbols: SymPy drops z[j]'s index j from a Derivative's free symbols.
    present = step.lhs.atoms(sp.Symbol) | step.rhs.atoms(sp.Symbol) | step.condition.atoms(sp.Symbol)
    candidates = _FREE_INDEX_SYMBOLS + tuple(semantics.index_ranges if semantics else ())
    free = tuple(s for s in candidates if s in present and not _is_only_a_dummy(s, step))
    spec = PointSpec(free_indices=free, condition=step.condition,
                     targets_on_simplex=TARGETS_SUM_TO_ONE in step.uses, semantics=semantics)
    Ks = (K_value,) if K_value is not None else (semantics.Ks if semantics is not None else None)
    with mpmath.workdps(PRECISION_DIGITS):
        envs = environments(spec, **({"Ks": Ks} if Ks else {}))
        side = step.lhs.as_immutable() if isinstance(step.lhs, sp.MatrixBase) else step.lhs  # hashable
        key = ("lhs values", side, free, step.condition, spec.targets_on_simplex, Ks)
        if memo is not None and key in memo:
            lhs_values = memo[key]
        else:
            lhs = compile_expr(step.lhs)
            lhs_values = [lhs(env) for env in envs]
            if memo is not None:
                memo[key] = lhs_values
        rhs = compile_expr(step.rhs)
        worst = mpmath.mpf(0)
        for env, lhs_value in zip(envs, lhs_values):
            worst = max(worst, _distance(lhs_value, rhs(env)))
    return worst, len(envs)


def _is_only_a_dummy(symbol, step: Step) -> bool:
    """A summation dummy (n in Sum_n) is not a free index, even if its name is one."""
    return all(symbol not in side.free_symbols and not _indexes_derivative(symbol, side)
               for side in (step.lhs, step.rhs, step.condition))


def _indexes_derivative(symbol, expr) -> bool:
    return any(symbol in ix.free_symbols for der in expr.atoms(sp.Derivative) for var in der.variables
               for ix in getattr(var, "indices", ()))


def _distance(a, b) -> mpmath.mpf:
    """|a - b|, relative to the size of the values once they exceed 1 (log-sums at |z| ~ 1000)."""
    if isinstance(a, mpmath.matrix) or isinstance(b, mpmath.matrix):
        if not (isinstance(a, mpmath.matrix) and isinstance(b, mpmath.matrix)) or a.rows != b.rows or a.cols != b.cols:
            return mpmath.inf
        return max(_distance(a[r, c], b[r, c]) for r in range(a.rows) for c in range(a.cols))
    return relative_error(a, b)


# --- symbolic ---------------------------------------------------------------------------------

def prove_equal(step: Step, *, n: int | None = None, semantics: Semantics | None = None,
                memo: dict | None = None) -> bool | None:
    """True when SymPy reduces lhs - rhs to 0 in the logits; None when it cannot decide.

    `memo` (see verify_step) may only be shared between steps of one derivation."""
    if semantics is not None and not semantics.prove:
        return None
    memo = {} if memo is None else memo

    def normal(expr):
        if expr not in memo:  # the costly part (derivatives done) does not depend on the step
            memo[expr] = _in_logits(expr, n, semantics)
        return _under_step_assumptions(memo[expr], step, n)
    try:
        pairs = _entry_pairs(step.lhs, step.rhs, n)
        if pairs is None:
            return None
        return all(is_zero_by_cases(normal(a) - normal(b)) for a, b in pairs) or None
    except (ValueError, TypeError, NotImplementedError, StopIteration, RecursionError, AttributeError,
            IndexException):
        # SymPy could not decide (sympy#14570 raises StopIteration from simplify on these sums).
        return None


def normal_form(expr: sp.Expr, step: Step, n: int | None, semantics: Semantics | None = None) -> sp.Expr:
    """Everything in logits (sigma by its definition, derivatives done, delta sums collapsed), under
    the step's assumptions: what prove_equal compares, for callers that compare it themselves."""
    return _under_step_assumptions(_in_logits(expr, n, semantics), step, n)


def _entry_pairs(lhs, rhs, n):
    """Scalars pair as they are; matrices pair entry by entry (generic entry (i, j) for symbolic K)."""
    if not (_is_matrix(lhs) or _is_matrix(rhs)):
        return [(lhs, rhs)]
    if n is None:
        return [(_generic_entry(lhs), _generic_entry(rhs))]
    a, b = _explicit(lhs, n), _explicit(rhs, n)
    if a is None or b is None or a.shape != b.shape:
        return None
    return list(zip(a, b))


def _is_matrix(expr) -> bool:
    return isinstance(expr, sp.MatrixBase) or getattr(expr, "is_Matrix", False) or (
        isinstance(expr, sp.Derivative) and any(getattr(v, "is_Matrix", False) for v in expr.variables))


def _generic_entry(expr):
    """Entry (i, j) of a matrix expression of symbolic size, in Indexed form."""
    if isinstance(expr, sp.Derivative):
        (var, _order), = expr.variable_count
        if _has_matrix_symbol(expr.expr):  # Jacobian: d out_i / d in_j
            return sp.Derivative(row(expr.expr, i), sp.IndexedBase(var.name)[j], evaluate=False)
        return sp.Derivative(expr.expr, sp.IndexedBase(var.name)[i], evaluate=False)  # gradient entry i
    column = expr.shape[1] == 1
    entry = expr[i, 0] if column else expr[i, j]
    return matrix_entries_to_indexed(entry, shift=0)


def _has_matrix_symbol(expr) -> bool:
    return bool(expr.atoms(sp.MatrixSymbol))


def _explicit(expr, n):
    if isinstance(expr, sp.MatrixBase):
        return expr
    if isinstance(expr, sp.Derivative):
        (var, _order), = expr.variable_count
        base = expr.expr
        v = sp.IndexedBase(var.name)
        if _has_matrix_symbol(base):
            return sp.Matrix(n, n, lambda r, c: sp.Derivative(row(base, r + 1), v[c + 1], evaluate=False))
        return sp.Matrix(n, 1, lambda r, _c: sp.Derivative(base, v[r + 1], evaluate=False))
    try:
        return matrix_entries_to_indexed(sp.Matrix(expr.as_explicit()))
    except (ValueError, TypeError, AttributeError):
        return None


def _in_logits(expr: sp.Expr, n: int | None, semantics: Semantics | None = None) -> sp.Expr:
    """Everything in logits: sigma by its definition, derivatives done, delta sums collapsed."""
    expr = matrix_entries_to_indexed(expr)
    if semantics is not None and semantics.layers is not None:
        expr = _through_layers(expr, semantics.layers, n)
    else:
        expr = softmax_definitions(expr, n=n)
    expr = evaluate_derivatives(expr)
    if semantics is not None and semantics.refold is not None:
        expr = semantics.refold(expr, n)
    expr = sum_out_deltas(expr, _range_facts(semantics))  # the delta sums without SymPy's summation
    expr = _doit_but_inert_sums(expr)
    if expr.has(sp.log):  # expand_log asks every product for its numerator and denominator, logs or not
        expr = sp.expand_log(expr, force=True)  # force: logits are real, probabilities positive
    # k: a Piecewise left by a delta sum nested in Sum_{k=1}^{K} (no derivation leaves k free).
    return resolve_piecewise(expr, _range_facts(semantics))


def _range_facts(semantics: Semantics | None) -> dict:
    """1 <= i, j, k <= K and the ranges the derivation states for its other indices (1 <= d <= D)."""
    ranges = {i: K, j: K, k: K, **(semantics.index_ranges if semantics is not None else {})}
    return ranged_facts(ranges)


def _doit_but_inert_sums(expr: sp.Expr) -> sp.Expr:
    """expr.doit(), except for sums SymPy cannot close: a sum over k of e^{z_k}, g_k sigma_k, ...
    (no delta to collapse, a term that depends on k) is left as it is. SymPy's doit would try
    telescoping, hypergeometric terms and `solve` on each of them and fail, seconds per sum."""
    inert = {s: sp.Dummy("inert_sum") for s in expr.atoms(sp.Sum) if _is_inert(s)}
    if not inert:
        return expr.doit()
    return expr.xreplace(inert).doit().xreplace({mask: s for s, mask in inert.items()})


def _is_inert(summation: sp.Sum) -> bool:
    body = summation.function
    return not body.has(sp.KroneckerDelta, sp.Derivative, sp.Piecewise) and all(
        body.has(v) for v in summation.variables)


def _under_step_assumptions(expr: sp.Expr, step: Step, n: int | None) -> sp.Expr:
    """What the step may use: its condition (i != j) and the targets' sum being 1; dummies named alike."""
    if step.condition != sp.true:
        expr = _apply_condition(expr, step.condition)
    if TARGETS_SUM_TO_ONE in step.uses:
        expr = _targets_sum_to_one(expr, n)
    return same_dummy(expr, k)  # equal sums then compare equal


def _through_layers(expr, layers, n):
    """Innermost first: derivatives with respect to a level's entries, then that level's definition."""
    for bases, substitute in layers:
        expr = expr.replace(
            lambda e: isinstance(e, sp.Derivative) and all(
                getattr(getattr(var, "base", var), "name", None) in bases for var in e.variables),
            lambda e: evaluate_derivatives(e))
        expr = substitute(expr, n)
    return expr


def _targets_sum_to_one(expr, n):
    """Use Sum_k y_k = 1: the sum becomes 1 (symbolic K), or y_K = 1 - y_1 - ... (concrete K)."""
    if n is not None:
        return explicit_targets_sum_to_one(expr, n)
    expr = pull_constants_out_of_sums(expr)
    expr = expr.replace(lambda e: isinstance(e, sp.Sum) and not e.function.has(*e.variables), lambda e: e.doit())
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.is_Indexed and e.function.base == y,
                        lambda e: sp.Integer(1))


def _apply_condition(expr, condition):
    if isinstance(condition, sp.Ne):
        a, b = condition.args
        return expr.replace(lambda e: isinstance(e, sp.KroneckerDelta) and set(e.args) == {a, b},
                            lambda e: sp.Integer(0))
    return expr


def is_zero_by_cases(difference: sp.Expr) -> bool:
    """Zero outright, or zero both when i = j (delta_ij = 1) and when i != j (delta_ij = 0):
    sigma_j (delta_ij - sigma_i) equals sigma_i (delta_ij - sigma_j) only by that case split."""
    if is_zero(difference):
        return True
    if not difference.has(sp.KroneckerDelta(i, j)):
        return False
    equal_case = difference.subs(j, i)
    unequal_case = difference.xreplace({sp.KroneckerDelta(i, j): sp.Integer(0)})
    return is_zero(equal_case) and is_zero(unequal_case)
