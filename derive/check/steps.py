"""Feedback on the step that broke: which rewrite the first wrong line attempted on the line before it.

Why mutations of the previous line: each catalogue entry is a typical wrong rewrite (a dropped
quotient-rule term, the delta collapsing onto the wrong index, ...) applied to the previous, right
line; a wrong line that equals such a mutation numerically (at the fixed points of mistake naming)
made that mistake. The attempted transformation is read from the previous line's shape; the
entries' student-facing texts and the hints are in the catalogues ([check.steps], [check.hints]).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import symbols
from ..algebra.indices import free_indices
from .equivalence import compare
from .target import CheckTarget
from .words import say

TRANSFORMATIONS = ("quotient-rule", "chain-rule", "delta-sum", "substitute-softmax", "sum-to-one", "factor", "cancel",
                   "log-rule", "differentiate-gradient", "unknown")
# Stable ids of the wrong rewrites, with the transformation each belongs to.
WRONG_REWRITES = {
    "quotient-term-dropped": "quotient-rule",
    "chain-term-dropped": "chain-rule",
    "delta-wrong-index": "delta-sum",
    "sum-kept": "delta-sum",
    "sign-lost-distributing": "factor",
    "sigma-cancelled-wrongly": "cancel",
    "sum-to-one-misused": "sum-to-one",
}


@dataclass(frozen=True)
class StepFeedback:
    """`id`: the wrong rewrite found (None: none of the catalogue); `transformation`: what was attempted."""

    id: str | None
    transformation: str

    def to_dict(self, lang: str = "en") -> dict:
        return {"id": self.id, "transformation": self.transformation,
                "explanation": say(lang, self.id, "steps") if self.id else None}


def diagnose(previous: sp.Basic, wrong: sp.Basic, target: CheckTarget) -> StepFeedback:
    """Which transformation line `wrong` attempted on the right line `previous`, and how it went wrong."""
    previous = target.substitute(previous)
    for rewrite_id, candidate in _mutations(previous, wrong, target):
        probe = CheckTarget(**{**target.__dict__, "result": candidate})
        if compare(wrong, probe, sample=2).agree:
            return StepFeedback(rewrite_id, WRONG_REWRITES[rewrite_id])
    return StepFeedback(None, _attempted(previous, wrong))


def step_message(step: StepFeedback, line: int, previous: int, lang: str = "en") -> str:
    transformation = say(lang, f"transformation_{step.transformation}", "steps")
    if step.id is None:
        return say(lang, "step_unknown", line=line, previous=previous, transformation=transformation)
    return say(lang, "step", line=line, previous=previous, transformation=transformation,
               explanation=say(lang, step.id, "steps"))


def _attempted(previous: sp.Basic, wrong: sp.Basic) -> str:
    """The transformation the previous line's shape calls for next."""
    derivatives = list(previous.atoms(sp.Derivative))
    if any(sp.fraction(sp.together(d.expr))[1] != 1 for d in derivatives):
        return "quotient-rule"
    if derivatives:
        return "chain-rule"
    sums = previous.atoms(sp.Sum)
    if any(s.function.has(sp.KroneckerDelta) for s in sums):
        return "delta-sum"
    if previous.has(sp.exp) and _sigmas(wrong) > _sigmas(previous):
        return "substitute-softmax"
    if any(_is_sum_of(s, symbols.y) for s in sums):
        return "sum-to-one"
    return "factor" if previous.atoms(sp.Mul) else "unknown"


def _sigmas(expr) -> int:
    return sum(1 for ix in expr.atoms(sp.Indexed) if ix.base == symbols.sigma)


def _is_sum_of(summation: sp.Sum, base) -> bool:
    return any(isinstance(f, sp.Indexed) and f.base == base for f in sp.Mul.make_args(summation.function))


def _mutations(previous: sp.Basic, wrong: sp.Basic, target: CheckTarget):
    """(id, the previous line with that wrong rewrite applied), nearest first."""
    free = sorted(free_indices(previous) | free_indices(wrong) | set(target.free), key=str)
    for d in sorted(previous.atoms(sp.Derivative), key=str):
        u, v = sp.fraction(sp.together(d.expr))
        if v != 1:
            x = d.variable_count
            yield "quotient-term-dropped", previous.xreplace({d: sp.Derivative(u, *x, evaluate=False) / v})
            yield "quotient-term-dropped", previous.xreplace({d: -u * sp.Derivative(v, *x, evaluate=False) / v**2})
    for s in sorted(previous.atoms(sp.Sum), key=str):
        (k, _lo, _hi), = s.limits[:1]
        body = s.function
        if body.has(sp.Derivative):
            for index in free:
                yield "chain-term-dropped", previous.xreplace({s: body.xreplace({k: index})})
        for delta in sorted(body.atoms(sp.KroneckerDelta), key=str):
            if k not in delta.args:
                continue
            (a,) = [arg for arg in delta.args if arg != k] or [k]
            collapsed = body.xreplace({delta: sp.Integer(1)})
            for other in free:
                if other != a:
                    yield "delta-wrong-index", previous.xreplace({s: collapsed.xreplace({k: other})})
            yield "sum-kept", previous.xreplace({s: symbols.K * collapsed.xreplace({k: a})})
            yield "sum-kept", previous.xreplace({s: sp.Sum(body.xreplace({delta: 1}), *s.limits)})
        if body.has(symbols.y) and not _is_sum_of(s, symbols.y) or (_is_sum_of(s, symbols.y) and len(sp.Mul.make_args(body)) > 1):
            yield "sum-to-one-misused", previous.xreplace({s: sp.Integer(1)})
    for node in sorted((n for n in sp.preorder_traversal(previous) if isinstance(n, sp.Mul)), key=str):
        brackets = [a for a in node.args if isinstance(a, sp.Add)]
        if brackets:
            terms = sp.Add.make_args(sp.expand(node))
            for term in terms:
                yield "sign-lost-distributing", previous.xreplace({node: sp.expand(node) - 2 * term})
        inverse = [a for a in node.args if a.is_Pow and a.exp == -1 and isinstance(a.base, sp.Indexed)
                   and a.base.base == symbols.sigma]
        for inv in inverse:
            rest = node / inv
            yield "sigma-cancelled-wrongly", previous.xreplace({node: rest})
            for other in sorted(rest.atoms(sp.Indexed), key=str):
                if other.base == symbols.sigma and other != inv.base:
                    yield "sigma-cancelled-wrongly", previous.xreplace({node: rest.xreplace({other: 1})})
