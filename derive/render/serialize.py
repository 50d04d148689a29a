"""A derivation as plain data: the JSON contract (README, "JSON contract"), and what templates get."""
from __future__ import annotations

import json
from contextlib import contextmanager
from functools import lru_cache

import sympy as sp
from sympy.printing.repr import ReprPrinter

from ..model import Derivation, Step
from .notation import Notation
from .printer import PrintsEachSubexpressionOnce, to_latex


class _SharedRepr(PrintsEachSubexpressionOnce, ReprPrinter):
    """sp.srepr, each subexpression printed once (softmax-vjp's 512-term g^T sigma in all 512 entries)."""


@contextmanager
def _sort_keys_remembered():
    """Expr.sort_key memoised without bound while one srepr runs. srepr orders every Add and Mul by sort_key;
    SymPy caches it in an LRU of 1000, and one 512-term g^T sigma needs more keys than that, so its key was
    evicted and recomputed for each of the 512 entries (0.3 s became 150 s at K = 512). sort_key is pure:
    the text is the same."""
    bounded = sp.Expr.sort_key
    sp.Expr.sort_key = lru_cache(maxsize=None, typed=True)(bounded.__wrapped__)
    try:
        yield
    finally:
        sp.Expr.sort_key = bounded


def _srepr(expr: sp.Basic) -> str:
    """sp.srepr(expr), the same text, in time linear in the distinct subexpressions."""
    with _sort_keys_remembered():
        return _SharedRepr().doprint(expr)


def step_to_dict(step: Step, notation: Notation | None = None) -> dict:
    evidence = step.evidence
    return {
        "lhs": to_latex(step.lhs, notation),
        "rhs": to_latex(step.rhs, notation),
        "justification": step.note,
        "rule": step.rule.value,
        "facts": list(step.facts),
        "condition": None if step.condition == sp.true else to_latex(step.condition, notation),
        "verified": None if evidence is None else {
            "symbolic": evidence.symbolic,
            "numeric_max_abs_error": evidence.numeric_max_abs_error,
            "points": evidence.points,
        },
    }


def result_to_dict(lhs: sp.Basic, rhs: sp.Basic, notation: Notation | None = None) -> dict:
    """`sympy` is srepr in canonical names whatever the notation: notation only changes `latex`."""
    return {"latex": f"{to_latex(lhs, notation)} = {to_latex(rhs, notation)}", "sympy": _srepr(rhs)}


def to_dict(derivation: Derivation, notation: Notation | None = None) -> dict:
    data = {
        "name": derivation.name,
        "title": derivation.title,
        "K": "symbolic" if derivation.K is None else derivation.K,
        "assumptions": [to_latex(a.statement, notation) for a in derivation.assumptions],
        "steps": [step_to_dict(step, notation) for step in derivation.steps],
        "result": result_to_dict(derivation.result_lhs, derivation.result, notation),
    }
    if derivation.results:
        data["results"] = {name: result_to_dict(lhs, rhs, notation) for name, (lhs, rhs) in derivation.results.items()}
    return data


def to_json(derivation: Derivation, notation: Notation | None = None) -> str:
    return json.dumps(to_dict(derivation, notation), indent=2, ensure_ascii=False) + "\n"
