"""The teaching section of a document: intuition, the shortcut route, a worked K = 3 example, what frameworks compute.

The words come from the catalogues ([derivations.NAME.teaching], else [teaching]); the example's
numbers are computed from the derivation at K = 3 and checked by finite differences
(numeric.worked), never typed in.
"""
from __future__ import annotations

import mpmath

from .. import engine
from ..model import Derivation
from ..numeric.worked import FORWARD, PROBS, TARGET_CLASS, worked_example
from . import messages
from .printer import to_latex

PARAGRAPHS = ("intuition", "shortcut", "frameworks")


def teaching_context(derivation: Derivation, say) -> dict:
    """Paragraphs (those the catalogue has for this derivation) and the worked example, printed."""
    table = messages.catalogue(say.lang)
    own = table.get("derivations", {}).get(derivation.name, {}).get("teaching", {})
    paragraphs = [say.rich(own[key]) for key in PARAGRAPHS if key in own] or [say.rich(table["teaching"]["frameworks"])]
    return {"heading": say.text(messages.word(say.lang, "teaching")), "paragraphs": paragraphs,
            "example": _example(derivation.name, say)}


def _number(value) -> str:
    return mpmath.nstr(value, 6, strip_zeros=True)


def _example(name: str, say) -> dict | None:
    if name not in FORWARD:  # no forward pass to check against here (and some derivations have no K = 3)
        return None
    derivation = engine.build(name, len(PROBS))
    example = worked_example(derivation)
    rows = r" \\ ".join(" & ".join(_number(v) for v in row) for row in example.result)
    vector = r", ".join(PROBS)
    targets = ", ".join(str(int(t)) for t in example.targets)
    intro = messages.word(say.lang, "example_intro").replace("{probs}", vector).replace("{targets}", targets) \
        .replace("{class}", str(TARGET_CLASS))
    return {"intro": say.rich(intro),
            "lhs": to_latex(derivation.result_lhs, say.notation),
            "matrix": rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}",
            "after": say.rich(messages.word(say.lang, "example_checked"))}
