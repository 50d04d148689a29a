"""Justifications: one per step, written for that step from its rule and facts, never shared by two steps."""
from __future__ import annotations

import collections
import re

import pytest

from derive import engine
from derive.render import messages
from derive.render.context import build_context
from derive.render.documents import render
from derive.render.notation import Notation
from doc_cases import small_K

CASES = [(name, K) for name in engine.names() for K in (None, small_K(name))]


def justifications(derivation, lang: str) -> list[str]:
    context = build_context(derivation, notation=Notation(), lang=lang, syntax="md")
    return [e["text"] for block in context["blocks"] for part in block["parts"] for e in part["equations"]]


def repeated(texts: list[str]) -> list[str]:
    return [text for text, count in collections.Counter(texts).items() if count > 1]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name,K", CASES, ids=[f"{n}-{K or 'sym'}" for n, K in CASES])
def test_every_step_has_its_own_justification(name, K, lang):
    derivation = engine.build(name, K)  # wording needs no verification: the unverified build is enough
    texts = justifications(derivation, lang)
    assert all(step.facts for step in derivation.steps), "a step without facts: say what it uses"
    assert repeated(texts) == []
    assert len(texts) == len(derivation.steps)
    # The listing the closing note asks for: steps and distinct justifications, per derivation.
    print(f"{lang} {name} K={K or 'symbolic'}: {len(derivation.steps)} steps, {len(set(texts))} distinct justifications")


def test_the_uniqueness_check_can_fail(monkeypatch):
    """Worded generically (every fact the same sentence), two steps of one rule read alike and are caught."""
    monkeypatch.setattr(messages, "fact", lambda lang, fact_id: "by the rule")
    assert repeated(justifications(engine.build("linear-softmax-cross-entropy"), "en")) != []


def test_every_fact_a_derivation_uses_is_worded_in_both_languages():
    used = {fact for name, K in CASES for step in engine.build(name, K).steps for fact in step.facts}
    for lang in ("en", "zh"):
        assert used <= set(messages.catalogue(lang)["facts"]), sorted(used - set(messages.catalogue(lang)["facts"]))
    assert set(messages.catalogue("en")["facts"]) == used, "a worded fact no step uses"


def test_a_repeated_substitution_points_to_its_last_use():
    texts = justifications(engine.build("linear-softmax-cross-entropy"), "en")
    assert texts[8].endswith("as in (2).") and texts[14].endswith("as in (9).")


@pytest.mark.parametrize("name", ["linear-softmax-cross-entropy", "cross-entropy-hessian", "softmax-jacobian"])
def test_one_numbering_in_order_of_appearance(name):
    """Labels in the article and the fragment, and tags in the Markdown, run 1, 2, 3, ... down the page."""
    derivation = engine.build(name)
    count = len(derivation.steps)
    for fmt in ("latex", "fragment"):
        labels = re.findall(r"\\label\{[^}]*:eq(\d+)\}", render(derivation, fmt))
        assert [int(n) for n in labels] == list(range(1, count + 1))
    tags = re.findall(r"\\tag\{(\d+)\}", render(derivation, "markdown"))
    assert [int(n) for n in tags] == list(range(1, count + 1))


@pytest.mark.parametrize("name,headings", [
    ("linear-softmax-cross-entropy", ["weights", "bias", "input"]),
    ("cross-entropy-hessian", ["second derivatives", "Symmetry", "null vector", "semi-definiteness"]),
])
def test_a_subheading_per_result(name, headings):
    text = render(engine.build(name), "markdown")
    found = re.findall(r"^### (.*)$", text, re.M)
    assert len(found) == len(headings) and all(h in f for h, f in zip(headings, found))


def test_a_step_without_facts_falls_back_to_its_derivations_text(monkeypatch):
    """A derivation not yet given facts still renders (its own per-rule text), and is reported above."""
    table = {**messages.catalogue("en")}
    table["derivations"] = {**table["derivations"], "softmax-jacobian": {
        **table["derivations"]["softmax-jacobian"], "steps": {"factor": "Pull out sigma."}}}
    monkeypatch.setattr(messages, "catalogue", lambda lang: table)
    from derive.model import Rule
    assert messages.justification("en", Rule.FACTOR, (), name="softmax-jacobian") == "Pull out sigma."
    assert messages.justification("en", Rule.FACTOR, (), name="other") == "Factor."
