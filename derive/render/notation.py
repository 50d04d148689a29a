"""A notation: which LaTeX each role prints as. Changes printing only, never the math or the JSON's `sympy`.

User-supplied symbols are untrusted LaTeX that ends up inside documents other people compile, so
they are validated conservatively: a whitelist of commands and characters, balanced braces, and
no two roles printing the same.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from ..errors import NotationError
from .symbol_grammar import COMMANDS, atom_problem

DEFAULT_SYMBOLS = {
    "probs": r"\sigma",
    "logits": "z",
    "targets": "y",
    "loss": "L",
    "classes": "K",
    "i": "i",
    "j": "j",
    "k": "k",
}
ROLES = tuple(DEFAULT_SYMBOLS)
INDEX_ROLES = ("i", "j", "k")

VECTOR_STYLES = ("bold", "arrow", "plain")
DELTA_STYLES = ("kronecker", "indicator")

# Commands a symbol may use: letters, accents and alphabets. Nothing that reads files, defines
# macros or changes catcodes can get through.
ALLOWED_COMMANDS = COMMANDS
# Letters a symbol cannot be: they already mean something in every document (e^x, I, the delta).
RESERVED = frozenset({"e", "I", r"\delta", r"\partial", r"\log", r"\mathbf{1}"})
_TOKEN = re.compile(r"\\([A-Za-z]+)|([A-Za-z0-9{}' ])|(.)", re.DOTALL)
MAX_SYMBOL_LENGTH = 40


@dataclass(frozen=True)
class Notation:
    """symbols: role -> LaTeX; vector_style: how whole vectors print; delta: delta_ij or 1[i=j]."""

    symbols: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_SYMBOLS)))
    vector_style: str = "bold"
    delta: str = "kronecker"

    def symbol(self, role: str) -> str:
        return self.symbols[role]

    def with_symbols(self, **changes: str) -> "Notation":
        return replace(self, symbols=MappingProxyType({**self.symbols, **changes}))


# Canonical SymPy names -> roles (the names are fixed by the JSON contract).
NAME_TO_ROLE = {"sigma": "probs", "z": "logits", "y": "targets", "L": "loss", "K": "classes",
                "i": "i", "j": "j", "k": "k"}


def validate_symbol(role: str, tex: str) -> str:
    """`tex` stripped, or NotationError naming the role and what is wrong with it."""
    tex = tex.strip()
    if not tex:
        raise NotationError(f"symbol for {role!r} is empty")
    if len(tex) > MAX_SYMBOL_LENGTH:
        raise NotationError(f"symbol for {role!r} is longer than {MAX_SYMBOL_LENGTH} characters")
    depth = 0
    for match in _TOKEN.finditer(tex):
        command, plain, other = match.groups()
        if other is not None:
            raise NotationError(f"symbol for {role!r} contains {other!r}, which is not allowed in a symbol")
        if command is not None and command not in ALLOWED_COMMANDS:
            raise NotationError(f"symbol for {role!r} uses \\{command}, which is not an allowed symbol command")
        if plain == "{":
            depth += 1
        elif plain == "}":
            depth -= 1
            if depth < 0:
                raise NotationError(f"symbol for {role!r} has unbalanced braces: {tex}")
    if depth:
        raise NotationError(f"symbol for {role!r} has unbalanced braces: {tex}")
    problem = atom_problem(tex)
    if problem:
        raise NotationError(f"symbol for {role!r} is not a complete LaTeX symbol ({problem}): {tex}")
    if role in INDEX_ROLES and not re.fullmatch(r"[a-z]", tex):
        raise NotationError(f"index {role!r} must be one lower-case letter, not {tex!r}")
    return tex


def _canonical(tex: str) -> str:
    """Whitespace-insensitive form, so `\\hat{y}` and `\\hat {y}` count as the same symbol."""
    return re.sub(r"\s+", "", tex)


def make_notation(symbols: Mapping[str, str] | None = None, *, vector_style: str = "bold",
                  delta: str = "kronecker") -> Notation:
    """A validated notation: defaults overridden by `symbols`; refuses unknown roles and clashes."""
    symbols = dict(symbols or {})
    unknown = sorted(set(symbols) - set(ROLES))
    if unknown:
        raise NotationError(f"unknown role {unknown[0]!r}; roles: {', '.join(ROLES)}, vector, delta")
    if vector_style not in VECTOR_STYLES:
        raise NotationError(f"vector style must be one of {', '.join(VECTOR_STYLES)}, not {vector_style!r}")
    if delta not in DELTA_STYLES:
        raise NotationError(f"delta must be one of {', '.join(DELTA_STYLES)}, not {delta!r}")
    chosen = {role: validate_symbol(role, tex) for role, tex in {**DEFAULT_SYMBOLS, **symbols}.items()}
    seen: dict[str, str] = {}
    for role, tex in chosen.items():
        key = _canonical(tex)
        if key in seen:
            raise NotationError(f"roles {seen[key]!r} and {role!r} would both print as {tex}")
        if key in {_canonical(r) for r in RESERVED}:
            raise NotationError(f"symbol for {role!r} cannot be {tex}: it already means something in the documents")
        seen[key] = role
    return Notation(symbols=MappingProxyType(chosen), vector_style=vector_style, delta=delta)
