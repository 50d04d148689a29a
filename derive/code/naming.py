"""Name the mistake in wrong gradient code: code-specific slips first, then the check catalogue.

Why extra entries: code goes wrong in ways hand derivations rarely do (the upstream gradient passed
through, a Jacobian kept diagonal, the VJP's dot-product term dropped, a sum over the wrong axis);
each is a wrong formula built from the target's own result, matched numerically like the catalogue's.
"""
from __future__ import annotations

from dataclasses import replace

import sympy as sp

from .. import symbols
from ..check.equivalence import ShapeMismatch, compare
from ..check.mistakes import Mistake, identify
from ..check.target import CheckTarget
from .sums import normal

EXPLANATIONS = {
    "missing-dot-product": "The dot-product term of the VJP is missing: dz_i = s_i (g_i - sum_k g_k s_k). With a "
                           "uniform upstream gradient (g = 1, as many gradient checks use) the term sums to a constant "
                           "and is easy to miss.",
    "pass-through": "The upstream gradient is passed through unchanged: the local Jacobian of softmax was never applied.",
    "diagonal-only": "Only the diagonal of the Jacobian is kept (s_i (1 - s_i) on the diagonal, 0 elsewhere); the "
                     "off-diagonal entries -s_i s_j are missing.",
    "wrong-axis": "A sum or maximum runs over the batch axis (axis 0) where the class axis (axis -1) is meant: "
                  "row n of the result reads other examples.",
    "shape": "The arrays' shapes do not fit: broadcasting fails (keepdims=True missing?) or the result has "
             "the wrong shape.",
    "upstream-ignored": "The upstream gradient is ignored: the backward must multiply by grad_output.",
}


def code_mistake(mistake_id: str, extra: str = "") -> Mistake:
    return Mistake(mistake_id, (EXPLANATIONS[mistake_id] + (" " + extra if extra else "")).strip())


def candidates(probe: CheckTarget, plain: CheckTarget) -> list:
    """(id, wrong formula) for the probe (the VJP or scaled gradient) built from the plain target."""
    out = []
    R = probe.result
    if "g" in probe.arrays:
        (index,) = probe.free
        out.append(("pass-through", symbols.g[index]))
        expanded = sp.expand(normal(R))
        kept = sp.Add(*(t for t in sp.Add.make_args(expanded)
                        if not any(isinstance(a, sp.Sum) and a.has(symbols.g) for a in sp.preorder_traversal(t))))
        if kept != expanded and kept != 0:
            out.append(("missing-dot-product", kept))
    if "c" in probe.arrays and "c" not in plain.arrays:
        out.append(("upstream-ignored", plain.result))
    if len(plain.free) == 2 and probe is plain:
        a, b = plain.free
        out.append(("diagonal-only", sp.KroneckerDelta(a, b) * plain.result))
    elif len(plain.free) == 2 and "g" in probe.arrays:
        a, b = plain.free
        out.append(("diagonal-only", symbols.g[b] * plain.result.xreplace({a: b})))
    return out


def name_mistake(expr: sp.Expr, probe: CheckTarget, plain: CheckTarget) -> Mistake | None:
    for mistake_id, formula in candidates(probe, plain):
        try:
            if compare(expr, replace(probe, result=formula), sample=2).agree:
                return code_mistake(mistake_id)
        except ShapeMismatch:
            continue
    return identify(expr, probe)
