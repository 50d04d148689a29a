"""A derivation as the printed strings a template needs: every formula printed, every word looked up.

Templates get only this dict (strings, lists, numbers), never SymPy objects, and do no math.
The same function serves LaTeX and Markdown; `syntax` picks how prose and inline math are written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Callable

import sympy as sp

from ..errors import UsageError
from ..model import Derivation, Rule, Step
from . import escape, messages
from .notation import Notation
from .printer import MAX_MATRIX_SIDE, to_latex

CASE_RULES = (Rule.CASE_EQUAL, Rule.CASE_UNEQUAL)
FORM_RULES = (Rule.MATRIX_FORM, Rule.VECTOR_FORM)
LABEL_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")


@dataclass(frozen=True)
class OutputFormat:
    """How prose, inline math and equation references are written in one document language."""

    text: Callable[[str], str]
    math: Callable[[str], str]
    ref: Callable[[str, int], str]  # (label, number) -> reference


TEX = OutputFormat(escape.tex_text, escape.tex_inline_math, lambda label, _n: rf"\eqref{{{label}}}")
MARKDOWN = OutputFormat(escape.markdown_text, escape.markdown_inline_math, lambda _label, n: f"({n})")
OUTPUT_FORMATS = {"tex": TEX, "md": MARKDOWN}


def check_label_prefix(prefix: str) -> str:
    if not LABEL_PREFIX.fullmatch(prefix):
        raise UsageError(f"label prefix must be a letter then letters, digits, _ . : - (at most 64), not {prefix!r}")
    return prefix


def reference_source(name: str) -> str:
    """The NumPy reference module's source, shown verbatim in the documents."""
    module = name.replace("-", "_") + ".py"
    return resources.files("derive.reference").joinpath(module).read_text(encoding="utf-8")


def build_context(derivation: Derivation, *, notation: Notation, lang: str, syntax: str,
                  label_prefix: str | None = None) -> dict:
    """Everything the templates show, printed in `notation`, worded in `lang`, written in `syntax` ("tex" or "md")."""
    fmt = OUTPUT_FORMATS[syntax]
    prefix = check_label_prefix(label_prefix or derivation.name)
    say = _Sayer(fmt, notation, lang, derivation)
    equations = [_equation(step, number, prefix, notation, say) for number, step in enumerate(derivation.steps, 1)]
    _hide_repeated_lhs(equations)
    chain = [e for e in equations if e["rule"] not in CASE_RULES + FORM_RULES]
    cases = [e for e in equations if e["rule"] in CASE_RULES]
    forms = [e for e in equations if e["rule"] in FORM_RULES]
    # The equation the result comes from (cross-references point there): the last one that states
    # the result; chain[-1] when none does literally (the properties may come after it).
    result_lhs, result_rhs = to_latex(derivation.result_lhs, notation), to_latex(derivation.result, notation)
    main = next((e for e in reversed(chain) if e["lhs"] == result_lhs and e["rhs"] == result_rhs), chain[-1])
    return {
        "lang": lang,
        "label_prefix": prefix,
        "name": derivation.name,
        "title": messages.derivation_text(lang, derivation.name, "title"),
        "intro": say.rich(messages.derivation_text(lang, derivation.name, "intro")),
        "words": {key: say.text(value) for key, value in messages.catalogue(lang)["words"].items()
                  if "$" not in value and "{" not in value},
        "k_text": say.rich(messages.word(lang, "symbolic_K" if derivation.is_symbolic else "concrete_K"),
                           K=derivation.K),
        "elided_text": say.rich(messages.word(lang, "elided"), K=derivation.K)
        if (derivation.K or 0) > MAX_MATRIX_SIDE else "",
        "verified_text": say.rich(messages.word(lang, "verified")),
        "symbols": _symbols(derivation, notation, lang, say),
        "assumptions": [to_latex(a.statement, notation) for a in derivation.assumptions],
        "definitions": [f"{to_latex(s, notation)} = {to_latex(v, notation)}" for s, v in derivation.definitions],
        "chain": chain,
        "cases": cases,
        "cases_intro": say.rich(messages.word(lang, "case_intro"), ref=main["ref"]) if cases else "",
        "forms": forms,
        "forms_heading": say.text(messages.word(
            lang, "vector" if any(e["rule"] == Rule.VECTOR_FORM for e in forms) else "matrix")),
        "forms_intro": say.rich(messages.word(lang, "matrix_intro"), ref=main["ref"]) if forms else "",
        "result": {"lhs": result_lhs, "rhs": result_rhs,
                   "intro": say.rich(messages.word(lang, "result_intro"), ref=main["ref"])},
        "graph": _graph(derivation, notation, lang),
        "code": reference_source(derivation.name),
    }


class _Sayer:
    """Looks up and formats words for one document: escaping, math, `{ref}`/`{K}` slots."""

    def __init__(self, fmt: OutputFormat, notation: Notation, lang: str, derivation: Derivation):
        self.fmt, self.notation, self.lang, self.derivation = fmt, notation, lang, derivation

    def text(self, value: str) -> str:
        return self.fmt.text(value)

    def rich(self, message: str, *, ref: str | None = None, K: int | None = None) -> str:
        if K is not None:
            message = message.replace("{K}", str(K))
        pieces = [messages.rich(part, self.notation, escape=self.fmt.text, math=self.fmt.math)
                  for part in message.split("{ref}")]
        return (ref or "").join(pieces)

    def step(self, rule: Rule) -> str:
        return self.rich(messages.step_text(self.lang, self.derivation.name, rule,
                                            concrete=self.derivation.K is not None))


def _equation(step: Step, number: int, prefix: str, notation: Notation, say: _Sayer) -> dict:
    label = f"{prefix}:eq{number}"
    condition = None if step.condition == sp.true else to_latex(step.condition, notation)
    return {
        "number": number,
        "label": label,
        "ref": say.fmt.ref(label, number),
        "rule": step.rule,
        "lhs": to_latex(step.lhs, notation),
        "rhs": to_latex(step.rhs, notation),
        "condition": condition,
        "text": say.step(step.rule),
        "show_lhs": True,
        "tall": isinstance(step.lhs, sp.MatrixBase),
    }


def _hide_repeated_lhs(equations: list[dict]) -> None:
    """In a chain `a = b = c` the left side is written once."""
    for before, after in zip(equations, equations[1:]):
        if after["lhs"] == before["lhs"] and after["rule"] not in CASE_RULES + FORM_RULES:
            after["show_lhs"] = False


# Symbols that are not notation roles (g, x, W, b, T, epsilon, ...) print as their canonical name.
_FIXED_TEX = {"epsilon": r"\epsilon"}


def _symbols(derivation: Derivation, notation: Notation, lang: str, say: _Sayer) -> list[dict]:
    return [{"tex": notation.symbol(s.role) if s.role in notation.symbols else _FIXED_TEX.get(s.name, s.name),
             "description": say.rich(messages.catalogue(lang).get("derivations", {}).get(derivation.name, {})
                                     .get("roles", {}).get(s.role) or messages.role_description(lang, s.role))}
            for s in derivation.symbols]


def _graph(derivation: Derivation, notation: Notation, lang: str) -> dict:
    """Nodes of the forward pass z -> exp -> sum -> normalise -> sigma (-> loss), captions and math."""
    roles = {s.role for s in derivation.symbols}
    logits, probs, k = (notation.symbol(r) for r in ("logits", "probs", "k"))
    nodes = [
        ("logits", rf"\boldsymbol{{{logits}}}"),
        ("exp", rf"e^{{{logits}_{k}}}"),
        ("sum", rf"\sum_{{{k}}} e^{{{logits}_{k}}}"),
        ("normalise", rf"e^{{{logits}_{k}}} / \sum_{{{k}}} e^{{{logits}_{k}}}"),
        ("probs", rf"\boldsymbol{{{probs}}}"),
    ]
    # A linear layer in front: the input (x, or the batch X row by row) and W, b make the logits.
    if "weights" in roles:
        layer = (r"\boldsymbol{W} \boldsymbol{x} + \boldsymbol{b}" if "input" in roles
                 else r"\boldsymbol{X} \boldsymbol{W}^{\top} + \mathbf{1} \boldsymbol{b}^{\top}")
        nodes.insert(0, ("linear", layer))
    if "loss" in roles:
        nodes.append(("loss", notation.symbol("loss")))
    return {"nodes": [{"id": key, "caption": messages.word(lang, f"node_{key}"), "math": math}
                      for key, math in nodes]}
