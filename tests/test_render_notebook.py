"""Jupyter display: the LaTeX repr carries every step's justification, not only the equations."""
from __future__ import annotations

from derive import engine
from derive.render.notebook import derivation_latex


def test_the_latex_repr_shows_a_justification_per_step():
    derivation = engine.build("softmax-jacobian")
    tex = derivation_latex(derivation)
    assert tex.count(r"\text{\small ") == len(derivation.steps)
    assert "Quotient rule: " in tex and "$\\partial e^{z_i}" in tex
    assert "商的求导法则" in derivation_latex(derivation, "zh")
