"""The documents' words, per language, from message catalogues (messages/<lang>.toml); never from the engine.

A missing entry is an error, not a silent fallback to English: `missing_entries` is what the
tests call so that a new Rule value or derivation without en and zh text fails CI.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources
from typing import Callable, Iterable

from ..errors import UsageError
from ..files import cache_folder, write_cache
from ..model import Rule
from .notation import Notation

LANGS = ("en", "zh")
_PLACEHOLDER = re.compile(r"<(probs|logits|targets|loss|classes|i|j|k)>")
# <vec:probs>: the whole vector in the notation's vector style; <delta:i,j>: delta_ij or 1[i = j] (<delta:d,r> too).
# <vec:g>, <vec:x>, <vec:W>, <vec:b>: a fixed letter (not a notation role) in the vector style.
_VECTOR = re.compile(r"<vec:(probs|logits|targets|[A-Za-z])>")
_DELTA = re.compile(r"<delta:([a-z]),([a-z])>")  # i, j, k in the notation; other letters (d, r) as they are


class MissingMessageError(LookupError):
    """A catalogue lacks an entry: a bug the catalogue tests catch, never shown to a user."""


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict:
    if lang not in LANGS:
        raise UsageError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return _parsed(resources.files("derive.render").joinpath("messages", f"{lang}.toml").read_bytes())


def _parsed(source: bytes) -> dict:
    """The tables of a catalogue's TOML `source`, kept as JSON in the user's cache folder under the
    source's hash: a check then reads them with json's C parser in well under a millisecond, where
    tomllib took 7 ms at every start. A changed catalogue has another name; a copy that cannot be read
    (damaged, not a table) is parsed again and rewritten, never believed."""
    folder = cache_folder()
    copy = None if folder is None else folder / f"messages-{hashlib.sha256(source).hexdigest()[:16]}.json"
    if copy is not None:
        try:
            tables = json.loads(copy.read_bytes())
            if isinstance(tables, dict):
                return tables
        except (OSError, ValueError):
            pass  # missing or damaged: parse the TOML below
    import tomllib  # only when the copy is missing: most starts never need it
    tables = tomllib.loads(source.decode("utf-8"))
    if copy is not None:
        write_cache(copy, json.dumps(tables, ensure_ascii=False).encode("utf-8"))
    return tables


def word(lang: str, key: str) -> str:
    try:
        return catalogue(lang)["words"][key]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [words] {key}") from None


def role_description(lang: str, role: str) -> str:
    try:
        return catalogue(lang)["roles"][role]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [roles] {role}") from None


def derivation_word(lang: str, name: str, key: str) -> str:
    """A word as one derivation says it ([derivations.NAME.words], e.g. attention's K counts keys), else the shared one."""
    own = catalogue(lang).get("derivations", {}).get(name, {}).get("words", {}).get(key)
    return own if own is not None else word(lang, key)


def derivation_text(lang: str, name: str, key: str) -> str:
    try:
        return catalogue(lang)["derivations"][name][key]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [derivations.{name}] {key}") from None


def teaching(lang: str, name: str) -> dict[str, str]:
    """A derivation's teaching paragraphs ([derivations.NAME.teaching]); what frameworks compute is required."""
    own = catalogue(lang).get("derivations", {}).get(name, {}).get("teaching", {})
    if "frameworks" not in own:
        raise MissingMessageError(f"{lang}.toml: no [derivations.{name}.teaching] frameworks")
    return own


def block_heading(lang: str, name: str, block: str) -> str:
    """The subheading of one block of a derivation with several results: the derivation's own, else the shared one."""
    table = catalogue(lang)
    own = table.get("derivations", {}).get(name, {}).get("blocks", {}).get(block)
    try:
        return own if own is not None else table["blocks"][block]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [blocks] {block} (nor [derivations.{name}.blocks])") from None


def rule_label(lang: str, rule: Rule) -> str:
    """The label a justification starts with ("Quotient rule")."""
    try:
        return catalogue(lang)["rules"][rule.value]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [rules] {rule.value}") from None


def fact(lang: str, fact_id: str) -> str:
    """The words for one fact a step uses (Step.facts)."""
    try:
        return catalogue(lang)["facts"][fact_id]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [facts] {fact_id}") from None


def justification(lang: str, rule: Rule, facts: Iterable[str], *, name: str = "", concrete: bool = False) -> str:
    """A step's justification as a message: its rule's label, then its facts ("Chain rule: a; b.").
    A step without facts (a derivation not yet given them) falls back to its derivation's own text for
    the rule ([derivations.NAME.concrete_steps] / [derivations.NAME.steps]), else the bare label;
    tests/test_render_justifications.py fails for such a derivation until its steps carry facts."""
    words = catalogue(lang)["words"]
    parts = [fact(lang, f) for f in facts]
    if not parts:
        entry = catalogue(lang).get("derivations", {}).get(name, {})
        for table in (("concrete_steps", "steps") if concrete else ("steps",)):
            if rule.value in entry.get(table, {}):
                return entry[table][rule.value]
        return rule_label(lang, rule) + words["justification_end"]
    return (rule_label(lang, rule) + words["justification_colon"] + words["justification_separator"].join(parts)
            + words["justification_end"])


def missing_entries(derivation_names: Iterable[str]) -> list[str]:
    """Every (language, entry) the documents may need and a catalogue lacks; empty when complete."""
    missing = []
    reference_words, reference_facts = set(catalogue("en")["words"]), set(catalogue("en")["facts"])
    for lang in LANGS:
        table = catalogue(lang)
        missing += [f"{lang}: rule {r.value}" for r in Rule if r.value not in table.get("rules", {})]
        missing += [f"{lang}: word {w}" for w in sorted(reference_words - set(table.get("words", {})))]
        missing += [f"{lang}: fact {f}" for f in sorted(reference_facts - set(table.get("facts", {})))]
        for name in derivation_names:
            entry = table.get("derivations", {}).get(name, {})
            missing += [f"{lang}: derivation {name} {key}" for key in ("title", "intro") if key not in entry]
            missing += [f"{lang}: derivation {name} teaching frameworks"] if "frameworks" not in entry.get("teaching", {}) else []
    return missing


def fill(text: str, notation: Notation) -> str:
    """Replace <role> placeholders inside a message's math with the notation's symbols."""
    def symbol(match: re.Match) -> str:
        tex = notation.symbol(match.group(1))
        return tex if re.fullmatch(r"[A-Za-z]", tex) else f"{{{tex}}}"

    def vector(match: re.Match) -> str:
        name = match.group(1)
        tex = notation.symbol(name) if name in notation.symbols else name
        return {"bold": rf"\boldsymbol{{{tex}}}", "arrow": rf"\vec{{{tex}}}"}.get(notation.vector_style, tex)

    def delta(match: re.Match) -> str:
        a, b = (notation.symbol(letter) if letter in "ijk" else letter for letter in match.groups())
        return rf"\mathbb{{1}}[{a} = {b}]" if notation.delta == "indicator" else rf"\delta_{{{a}{b}}}"
    return _PLACEHOLDER.sub(symbol, _DELTA.sub(delta, _VECTOR.sub(vector, text)))


def rich(text: str, notation: Notation, *, escape: Callable[[str], str], math: Callable[[str], str]) -> str:
    """A message with `$...$` math spans: prose escaped for the output format, math wrapped for it."""
    parts = fill(text, notation).split("$")
    if len(parts) % 2 == 0:
        raise MissingMessageError(f"unbalanced $ in message: {text!r}")
    return "".join(math(part) if index % 2 else escape(part) for index, part in enumerate(parts))
