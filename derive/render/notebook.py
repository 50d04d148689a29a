"""How a Derivation shows itself in Jupyter: the steps as one aligned display, or the Markdown document."""
from __future__ import annotations

from ..model import Derivation
from .printer import to_latex


def derivation_latex(derivation: Derivation) -> str:
    """`$$\\begin{aligned} lhs &= rhs \\\\ ... \\end{aligned}$$`, one line per step, its left side once per run."""
    lines, previous = [], None
    for step in derivation.steps:
        lhs = to_latex(step.lhs)
        lines.append(f"{lhs if lhs != previous else ''} &= {to_latex(step.rhs)}")
        previous = lhs
    body = " \\\\\n".join(lines)
    return f"$$\\begin{{aligned}}\n{body}\n\\end{{aligned}}$$"


def derivation_markdown(derivation: Derivation, lang: str = "en") -> str:
    from .documents import render
    return render(derivation, "markdown", lang=lang)
