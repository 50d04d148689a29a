"""How a Derivation shows itself in Jupyter: the steps with their justifications in one aligned display, or the Markdown document."""
from __future__ import annotations

from ..model import Derivation
from . import escape, messages
from .notation import Notation
from .printer import to_latex


def _justification(step, lang: str) -> str:
    """The step's justification as text mode with $...$ math (MathJax and KaTeX read math inside \\text)."""
    message = messages.justification(lang, step.rule, step.facts)
    return messages.rich(message, Notation(), escape=escape.tex_text, math=lambda tex: f"${tex}$")


def derivation_latex(derivation: Derivation, lang: str = "en") -> str:
    """`$$\\begin{aligned} ... \\end{aligned}$$`: each step's justification, then the step, its left side once per run."""
    lines, previous = [], None
    for step in derivation.steps:
        lhs = to_latex(step.lhs)
        lines.append(rf"& \text{{\small {_justification(step, lang)}}}")
        lines.append(f"{lhs if lhs != previous else ''} &= {to_latex(step.rhs)}")
        previous = lhs
    body = " \\\\\n".join(lines)
    return f"$$\\begin{{aligned}}\n{body}\n\\end{{aligned}}$$"


def derivation_markdown(derivation: Derivation, lang: str = "en") -> str:
    from .documents import render
    return render(derivation, "markdown", lang=lang)
