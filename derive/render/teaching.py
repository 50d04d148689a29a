"""The teaching section of a document: intuition, the shortcut route, a worked K = 3 example, what frameworks compute.

The words are each derivation's own ([derivations.NAME.teaching] in the catalogues); the example's
numbers are computed from the derivation at K = 3 and checked by finite differences
(numeric.worked), never typed in.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from .. import engine
from ..model import Derivation
from ..numeric.worked import CLASSES, PRECISION, SETTINGS, worked_example
from . import messages
from .printer import to_latex

PARAGRAPHS = ("intuition", "shortcut", "frameworks")


def teaching_context(derivation: Derivation, say) -> dict:
    """The derivation's own paragraphs (none is shared with another derivation) and the worked example, printed."""
    texts = messages.teaching(say.lang, derivation.name)
    paragraphs = [say.rich(texts[key]) for key in PARAGRAPHS if key in texts]
    return {"heading": say.text(messages.word(say.lang, "teaching")), "paragraphs": paragraphs,
            "example": _example(derivation.name, say)}


def _number(value) -> str:
    """6 significant digits, integers without a point (0, -1, not 0.0, -1.0)."""
    text = mpmath.nstr(value, 6, strip_zeros=True)
    return text[:-2] if text.endswith(".0") else text


# Inputs set up as logarithms print as such, z = (log 0.2, log 0.3, log 0.5), where they are logs of round numbers.
_LOG_INPUTS = {"z", "S", "b"}


def _value(name: str, value) -> str:
    def entry(v) -> str:
        if name in _LOG_INPUTS:
            exponent = mpmath.exp(v)
            if abs(exponent - mpmath.mpf(_number(exponent))) < mpmath.mpf("1e-30"):  # else print the number
                return rf"\log {_number(exponent)}"
        return _number(v)
    if not isinstance(value, list):
        return entry(value)
    if isinstance(value[0], list):
        return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(map(entry, row)) for row in value) + r" \end{pmatrix}"
    return "(" + ", ".join(map(entry, value)) + ")"


def _name(name: str, value, notation) -> str:
    """A vector's name is printed as a vector (bold, arrow or plain), a matrix's and a scalar's as they are."""
    tex = to_latex(sp.IndexedBase(name), notation)
    if isinstance(value, list) and not isinstance(value[0], list):
        return {"bold": rf"\boldsymbol{{{tex}}}", "arrow": rf"\vec{{{tex}}}"}.get(notation.vector_style, tex)
    return tex


def _example(name: str, say) -> dict | None:
    if name not in SETTINGS:  # no example for this derivation (sigmoid is K = 2 only; online-softmax has no derivative)
        return None
    derivation = engine.build(name, CLASSES)
    example = worked_example(derivation)
    with mpmath.workdps(PRECISION):  # the inputs' precision: log 0.2 is recognised as such
        rows = r" \\ ".join(" & ".join(_number(v) for v in row) for row in example.result)
        inputs = r",\quad ".join(f"{_name(n, v, say.notation)} = {_value(n, v)}" for n, v in example.inputs)
    return {"intro": say.rich(messages.word(say.lang, "example_intro")),
            "inputs": inputs,
            "result": say.rich(messages.word(say.lang, "example_result")),
            # The entry formula in brackets, [∂σ_i/∂z_j], names the matrix: a 3 × 3 matrix of
            # derivatives on the left had its rows touching in the PDF.
            "lhs": rf"\left[ {to_latex(engine.build(name).result_lhs, say.notation)} \right]",
            "matrix": rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}",
            "after": say.rich(messages.word(say.lang, "example_checked"))}
