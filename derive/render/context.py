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
from .graph import graph_context
from .notation import Notation
from .teaching import teaching_context
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


def reference_source(name: str, lang: str = "en") -> str:
    """The NumPy reference module's source, shown verbatim in the documents; for Chinese the same code
    with Chinese docstrings and comments (derive/reference/zh/, tested to be the same code)."""
    module = name.replace("-", "_") + ".py"
    package = "derive.reference.zh" if lang == "zh" else "derive.reference"
    return resources.files(package).joinpath(module).read_text(encoding="utf-8")


def build_context(derivation: Derivation, *, notation: Notation, lang: str, syntax: str,
                  label_prefix: str | None = None, teaching: bool = True) -> dict:
    """Everything the templates show, printed in `notation`, worded in `lang`, written in `syntax` ("tex" or "md")."""
    fmt = OUTPUT_FORMATS[syntax]
    prefix = check_label_prefix(label_prefix or derivation.name)
    say = _Sayer(fmt, notation, lang, derivation)
    # Equations are numbered in the order they appear: blocks keep the steps in order, so that is step order.
    equations = [_equation(step, number, prefix, notation) for number, step in enumerate(derivation.steps, 1)]
    _justify(equations, derivation.steps, say)
    blocks = _blocks(derivation, equations, say)
    # The equation the result comes from (cross-references point there): the last one that states
    # the result; the last chain equation when none does literally (the properties may come after it).
    result_lhs, result_rhs = to_latex(derivation.result_lhs, notation), to_latex(derivation.result, notation)
    chain = [e for e in equations if e["rule"] not in CASE_RULES + FORM_RULES]
    main = next((e for e in reversed(chain) if e["lhs"] == result_lhs and e["rhs"] == result_rhs), chain[-1])
    code = reference_source(derivation.name, lang)
    return {
        "lang": lang,
        "label_prefix": prefix,
        "name": derivation.name,
        "title": messages.derivation_text(lang, derivation.name, "title"),
        "intro": say.rich(messages.derivation_text(lang, derivation.name, "intro")),
        "words": {key: say.text(value) for key, value in messages.catalogue(lang)["words"].items()
                  if "$" not in value and "{" not in value},
        "k_text": say.rich(messages.derivation_word(lang, derivation.name,
                                                    "symbolic_K" if derivation.is_symbolic else "concrete_K"),
                           K=derivation.K),
        "elided_text": say.rich(messages.derivation_word(lang, derivation.name, "elided"), K=derivation.K)
        if (derivation.K or 0) > MAX_MATRIX_SIDE else "",
        "verified_text": say.rich(messages.word(lang, "verified")),
        "symbols": _symbols(derivation, notation, lang, say),
        # A hypothesis SymPy already knows from the symbol (T > 0 for a positive T) prints as "True":
        # the symbol list states it ("T: temperature, T > 0"), so the display leaves it out.
        "assumptions": [to_latex(a.statement, notation) for a in derivation.assumptions if a.statement != sp.true],
        # A symbol a step introduces (S, L at concrete K) is defined there, not twice.
        "definitions": [f"{to_latex(s, notation)} = {to_latex(v, notation)}" for s, v in derivation.definitions
                        if not any(step.lhs == s for step in derivation.steps)],
        "blocks": blocks,
        "result": {"lhs": result_lhs, "rhs": result_rhs,
                   "intro": say.rich(messages.word(lang, "result_intro"), ref=main["ref"])},
        "teaching": teaching_context(derivation, say) if teaching else None,
        "graph": graph_context(derivation, notation, lang),
        "graph_intro": say.rich(messages.derivation_word(lang, derivation.name, "graph_intro")),
        "code": code,
        "code_lines": code.count("\n") + 1,
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



def _equation(step: Step, number: int, prefix: str, notation: Notation) -> dict:
    label = f"{prefix}:eq{number}"
    condition = None if step.condition == sp.true else to_latex(step.condition, notation)
    return {
        "number": number,
        "label": label,
        "rule": step.rule,
        "lhs": to_latex(step.lhs, notation),
        "rhs": to_latex(step.rhs, notation),
        "condition": condition,
        "show_lhs": True,
        # A matrix of derivatives goes on its own line, its value under it; a column (a gradient) stays beside its value.
        "tall": isinstance(step.lhs, sp.MatrixBase) and step.lhs.cols > 1,
    }


def _justify(equations: list[dict], steps: tuple[Step, ...], say: "_Sayer") -> None:
    """Each equation's justification from its step's rule and facts. A step that uses exactly the
    facts of an earlier one (the same substitution in the next gradient) says so, pointing there."""
    last_use: dict[tuple, dict] = {}
    for equation, step in zip(equations, steps):
        equation["ref"] = say.fmt.ref(equation["label"], equation["number"])
        key = (step.rule, step.facts)
        message = messages.justification(say.lang, step.rule, step.facts, name=say.derivation.name,
                                         concrete=say.derivation.K is not None)
        earlier = last_use.get(key)
        if earlier is not None:
            end = messages.word(say.lang, "justification_end")
            message = message[: len(message) - len(end)] + messages.word(say.lang, "again") + end
        equation["text"] = say.rich(message, ref=earlier["ref"] if earlier else None)
        last_use[key] = equation


def _block_starts(derivation: Derivation, equations: list[dict], notation: Notation) -> dict[int, str]:
    """Equation index -> block id, where the derivation of a named result (or the symmetry) begins:
    the first step whose left side is that result's left side. Steps before the first: "setup"."""
    named = [(name, to_latex(lhs, notation)) for name, (lhs, _rhs) in derivation.results.items()]
    named.append(("main", to_latex(derivation.result_lhs, notation)))
    starts, seen = {}, set()
    for index, equation in enumerate(equations):
        if equation["lhs"] in seen or equation["rule"] in CASE_RULES + FORM_RULES:
            continue
        seen.add(equation["lhs"])
        block = ("symmetry" if equation["rule"] == Rule.SYMMETRY
                 else next((name for name, lhs in named if lhs == equation["lhs"]), None))
        if block is not None and block not in starts.values():
            starts[index] = block
    if 0 not in starts:
        starts[0] = "setup"
    return starts


def _blocks(derivation: Derivation, equations: list[dict], say: "_Sayer") -> list[dict]:
    """The derivation as blocks, one per result (a heading each when there are several), each made
    of parts: the chain of steps, then the cases i = j / i != j, then the matrix or vector form."""
    starts = _block_starts(derivation, equations, say.notation)
    bounds = sorted(starts) + [len(equations)]
    # Subheadings only where there are several results; the setup (S, the smoothed targets) needs none.
    several = sum(block != "setup" for block in starts.values()) > 1
    blocks = []
    for begin, end in zip(bounds, bounds[1:]):
        block_id = starts[begin]
        parts = []
        for equation in equations[begin:end]:
            kind = "cases" if equation["rule"] in CASE_RULES else "forms" if equation["rule"] in FORM_RULES else "chain"
            if not parts or parts[-1]["kind"] != kind:
                parts.append({"kind": kind, "equations": [], "heading": "", "intro": ""})
            parts[-1]["equations"].append(equation)
        for index, part in enumerate(parts):
            vector = any(e["rule"] == Rule.VECTOR_FORM for e in part["equations"])
            key = {"cases": "case_intro", "forms": "vector_intro" if vector else "matrix_intro"}.get(part["kind"])
            # Cases and forms both come from the entry formula: the last equation of the chain before them.
            chains = [p for p in parts[:index] if p["kind"] == "chain"]
            if key and chains:
                part["intro"] = say.rich(messages.word(say.lang, key), ref=chains[-1]["equations"][-1]["ref"])
            if part["kind"] == "forms" and part["intro"]:
                _introduce_form(part, say)
            if not several and part["kind"] == "cases":
                part["heading"] = say.text(messages.word(say.lang, "cases"))
            if not several and part["kind"] == "forms":
                part["heading"] = say.text(messages.word(say.lang, "vector" if vector else "matrix"))
        for part in parts:
            _hide_repeated_lhs(part["equations"])
        blocks.append({"id": block_id, "parts": parts,
                       "heading": say.rich(messages.block_heading(say.lang, derivation.name, block_id)) if several
                       else ""})
    return blocks


def _introduce_form(part: dict, say: "_Sayer") -> None:
    """The form is introduced once: "Collecting all entries of (6) in a matrix: entry (i, j) of ...",
    the introduction in place of the rule's label ("Matrix form: ...") its justification starts with."""
    first = part["equations"][0]
    label = say.text(messages.rule_label(say.lang, first["rule"]))
    colon = say.text(messages.word(say.lang, "justification_colon"))
    if first["text"].startswith(label + colon):
        first["text"] = part["intro"] + first["text"][len(label):]
    else:  # a justification without the label: the introduction stays a line of its own
        first["text"] = part["intro"] + colon + first["text"]
    part["intro"] = ""


def _hide_repeated_lhs(equations: list[dict]) -> None:
    """In a chain `a = b = c` the left side is written once."""
    for before, after in zip(equations, equations[1:]):
        if after["lhs"] == before["lhs"]:
            after["show_lhs"] = False


# Symbols that are not notation roles (g, x, W, b, T, epsilon, ...) print as their canonical name.


def _symbols(derivation: Derivation, notation: Notation, lang: str, say: _Sayer) -> list[dict]:
    # A role the notation does not cover prints as the printer prints its name: \\epsilon, \\ell.
    return [{"tex": notation.symbol(s.role) if s.role in notation.symbols else to_latex(sp.IndexedBase(s.name), notation),
             "description": say.rich(messages.catalogue(lang).get("derivations", {}).get(derivation.name, {})
                                     .get("roles", {}).get(s.role) or messages.role_description(lang, s.role))}
            for s in derivation.symbols]
