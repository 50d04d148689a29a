"""The checker's sentences in the student's language, from the [check] tables of the message catalogues.

Why the catalogues: the documents already speak en and zh from derive/render/messages/<lang>.toml;
the checker's verdicts, mistake explanations, step feedback and hints live beside them, and
`missing` lists any key one language has and the other lacks (a test keeps it empty).
"""
from __future__ import annotations

import functools
import re
import string

from ..render.messages import LANGS, MissingMessageError, catalogue

TABLES = ("check", "mistakes", "steps", "hints", "parse", "terms")


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


def reading_error(lang: str, error) -> str:
    """A ParseError in `lang`, with where it is. The parser raises English text; here it is matched
    against the [check.parse] templates of the English catalogue (the longest template that matches
    whole; its {fields} are taken from the text) and said from the same key in `lang`. Text no
    template matches stays English, with its place."""
    if lang == "en":
        return str(error)
    found = _matched(error.message)
    text = say(lang, found[0], "parse", **found[1]) if found is not None else error.message
    if error.line is not None and error.column is not None:
        return text + say(lang, "at_line_column", "parse", line=error.line, column=error.column)
    if error.line is not None or error.column is not None:
        key, field = ("at_line", "line") if error.line is not None else ("at_column", "column")
        return text + say(lang, key, "parse", **{field: getattr(error, field)})
    return text


def _matched(message: str) -> tuple | None:
    """(key, fields) of the English template that matches `message` whole, or None."""
    for key, pattern in _patterns():
        match = pattern.fullmatch(message)
        if match:
            return key, match.groupdict()
    return None


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple:
    """[check.parse] of en.toml as regular expressions, the longest literal text first (so
    "unexpected character {c}" is tried before "unexpected {token}")."""
    patterns = []
    for key, template in catalogue("en")["check"]["parse"].items():
        if key.startswith("at_"):
            continue
        parts, seen, literal = [], set(), 0
        for text, field, _spec, _conversion in string.Formatter().parse(template):
            parts.append(re.escape(text))
            literal += len(text)
            if field is not None:
                parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>.+?)")
                seen.add(field)
        patterns.append((literal, key, re.compile("".join(parts), re.DOTALL)))
    return tuple((key, pattern) for _literal, key, pattern in sorted(patterns, key=lambda item: -item[0]))
