"""Read a notation from where users write it: `--symbol ROLE=TEX` flags and a TOML file.

File format (every key optional):

    vector_style = "arrow"        # bold | arrow | plain
    delta = "indicator"           # kronecker | indicator
    [symbols]
    probs = "p"
    loss = '\\mathcal{L}'

Flags win over the file. `--symbol vector=STYLE` and `--symbol delta=STYLE` set the two styles.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Iterable

from ..errors import NotationError
from .notation import Notation, make_notation

STYLE_KEYS = {"vector": "vector_style", "vector_style": "vector_style", "delta": "delta"}


def read_notation_file(path: Path) -> dict:
    """The file's settings as keyword arguments for make_notation; NotationError if unreadable."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise NotationError(f"cannot read notation file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
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
