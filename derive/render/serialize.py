"""A derivation as plain data: the JSON contract (README, "JSON contract"), and what templates get."""
from __future__ import annotations

import json

import sympy as sp

from ..model import Derivation, Step
from .notation import Notation
from .printer import to_latex


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
    return {"latex": f"{to_latex(lhs, notation)} = {to_latex(rhs, notation)}", "sympy": sp.srepr(rhs)}


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
