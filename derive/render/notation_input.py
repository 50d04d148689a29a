"""Read a notation from where users write it: `--symbol ROLE=TEX` flags and a TOML file.

File format (every key optional):

    vector_style = "arrow"        # bold | arrow | plain
    delta = "indicator"           # kronecker | indicator
    [symbols]
    probs = "p"
    loss = '\\mathcal{L}'

Flags win over the file. `--symbol vector=STYLE` and `--symbol delta=STYLE` set the two styles.
The file is untrusted too: at most MAX_FILE_CHARS are read (`--notation /dev/zero` stops there);
lines longer than MAX_LINE_CHARS and brackets nested deeper than MAX_NESTING are refused before
the TOML parser recurses into them.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Iterable

from ..errors import NotationError
from .notation import Notation, make_notation

MAX_FILE_CHARS = 64 * 1024  # a notation is a dozen short lines
MAX_NESTING = 8  # [symbols] and '\\hat{\\mathbf{p}}' need 2
MAX_LINE_CHARS = 200  # also bounds dotted keys (a.a.a...), which tomllib handles in quadratic time
STYLE_KEYS = {"vector": "vector_style", "vector_style": "vector_style", "delta": "delta"}


def read_notation_file(path: Path) -> dict:
    """The file's settings as keyword arguments for make_notation; NotationError if unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(MAX_FILE_CHARS + 1)
    except OSError as error:
        raise NotationError(f"cannot read notation file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise NotationError(f"notation file {path} is not valid TOML: {error}") from None
    if len(text) > MAX_FILE_CHARS:
        raise NotationError(f"notation file {path} is longer than {MAX_FILE_CHARS:,} characters")
    if any(len(line) > MAX_LINE_CHARS for line in text.splitlines()):
        raise NotationError(f"notation file {path} has a line longer than {MAX_LINE_CHARS} characters")
    if _nesting(text) > MAX_NESTING:
        raise NotationError(f"notation file {path} nests brackets or braces more than {MAX_NESTING} deep")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NotationError(f"notation file {path} is not valid TOML: {error}") from None
    settings: dict = {"symbols": {}}
    for key, value in data.items():
        if key == "symbols" and isinstance(value, dict):
            settings["symbols"].update({role: _text(role, tex) for role, tex in value.items()})
        elif key in STYLE_KEYS:
            settings[STYLE_KEYS[key]] = _text(key, value)
        else:
            raise NotationError(f"notation file {path}: unknown key {key!r} (expected symbols, vector_style, delta)")
    return settings


def _nesting(text: str) -> int:
    """The deepest nesting of [ and { anywhere in the text (inside strings too: an over-estimate)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def parse_symbol_flags(flags: Iterable[str]) -> dict:
    """`("probs=p", "vector=arrow")` -> settings for make_notation; NotationError on `ROLE=` mistakes."""
    settings: dict = {"symbols": {}}
    for flag in flags:
        role, sep, tex = flag.partition("=")
        if not sep or not role.strip():
            raise NotationError(f"--symbol expects ROLE=TEX (e.g. probs=p), not {flag!r}")
        role = role.strip()
        if role in STYLE_KEYS:
            settings[STYLE_KEYS[role]] = tex.strip()
        else:
            settings["symbols"][role] = tex
    return settings


def notation_from(file: Path | None = None, flags: Iterable[str] = ()) -> Notation:
    """The validated notation from an optional file and flags (flags override the file)."""
    settings: dict = {"symbols": {}}
    for layer in ([read_notation_file(file)] if file else []) + [parse_symbol_flags(flags)]:
        settings = {**settings, **layer, "symbols": {**settings["symbols"], **layer["symbols"]}}
    return make_notation(settings.pop("symbols"), **settings)


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise NotationError(f"notation {key!r} must be a string, not {type(value).__name__}")
    return value
