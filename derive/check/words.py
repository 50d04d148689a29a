"""The checker's sentences in the student's language, from the [check] tables of the message catalogues.

Why the catalogues: the documents already speak en and zh from derive/render/messages/<lang>.toml;
the checker's verdicts, mistake explanations, step feedback and hints live beside them, and
`missing` lists any key one language has and the other lacks (a test keeps it empty).
"""
from __future__ import annotations

from ..render.messages import LANGS, MissingMessageError, catalogue

TABLES = ("check", "mistakes", "steps", "hints")


def say(lang: str, key: str, table: str = "check", **fields) -> str:
    """The sentence `key` of [check.<table>] (or [check]) in `lang`, with its {fields} filled in."""
    section = catalogue(lang)["check"]
    try:
        text = section[key] if table == "check" else section[table][key]
    except KeyError:
        raise MissingMessageError(f"{lang}.toml: no [check{'' if table == 'check' else '.' + table}] {key}") from None
    return text.format(**fields)


def missing() -> list:
    """(language, table, key) present in one catalogue and absent from another; empty when complete."""
    keys = {lang: _keys(catalogue(lang).get("check", {})) for lang in LANGS}
    every = set().union(*keys.values())
    return sorted((lang, key) for lang in LANGS for key in every - keys[lang])


def _keys(section: dict) -> set:
    return {(table, key) for table in TABLES
            for key, value in (section if table == "check" else section.get(table, {})).items()
            if isinstance(value, str)}
