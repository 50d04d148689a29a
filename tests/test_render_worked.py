"""The worked K = 3 example: every derivation with a derivative has one, its numbers are checked, a wrong result fails."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from derive import engine
from derive.errors import VerificationError
from derive.numeric.worked import CLASSES, SETTINGS, worked_example
from derive.render.context import build_context
from derive.render.notation import Notation

# Derivations without a K = 3 example, and why: the two-class case only; a recurrence, not a derivative.
WITHOUT_EXAMPLE = {"sigmoid-logistic-gradient", "online-softmax"}


def test_every_derivation_has_an_example_or_a_reason():
    assert set(engine.names()) == set(SETTINGS) | WITHOUT_EXAMPLE
    assert not set(SETTINGS) & WITHOUT_EXAMPLE


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_example_matches_finite_differences_and_a_perturbed_result_fails(name):
    derivation = engine.build(name, CLASSES)
    example = worked_example(derivation)  # raises if the derivation disagrees with finite differences
    assert example.result and all(len(row) == sp.Matrix(derivation.result).cols for row in example.result)
    # The check can fail: one entry changed by 1e-6 of a unit is caught.
    result = sp.Matrix(derivation.result)
    wrong = result.copy()
    wrong[0, 0] = wrong[0, 0] + sp.Rational(1, 10**6)
    with pytest.raises(VerificationError, match="finite differences"):
        worked_example(dataclasses.replace(derivation, result=sp.ImmutableMatrix(wrong)))


def test_textbook_numbers_of_cs231n():
    """p = (0.2, 0.3, 0.5), true class 2: the gradient of the loss is p - y = (0.2, -0.7, 0.5)."""
    example = worked_example(engine.build("cross-entropy-gradient", CLASSES))
    assert [float(v) for (v,) in example.result] == pytest.approx([0.2, -0.7, 0.5], abs=1e-15)


@pytest.mark.parametrize("name,expected", [
    ("softmax-vjp", r"\boldsymbol{g} = (1, 2, 3)"),
    ("linear-softmax-cross-entropy", r"\boldsymbol{b} = (\log 0.2, \log 0.3, \log 0.5)"),
    ("attention-backward", r"dO = \begin{pmatrix} 1 & -1 \\ 0.5 & 2 \end{pmatrix}"),
    ("masked-softmax", r"\boldsymbol{\sigma} = (0.4, 0.6, 0)"),
])
def test_documents_list_the_inputs_and_the_result(name, expected):
    example = build_context(engine.build(name, None), notation=Notation(), lang="en", syntax="md")["teaching"]["example"]
    assert expected in example["inputs"]
    assert r"\begin{pmatrix}" in example["matrix"]
