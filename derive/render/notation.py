"""A notation: which LaTeX each role prints as. Changes printing only, never the math or the JSON's `sympy`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

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

VECTOR_STYLES = ("bold", "arrow", "plain")
DELTA_STYLES = ("kronecker", "indicator")


@dataclass(frozen=True)
class Notation:
    """symbols: role -> LaTeX; vector_style: how whole vectors print; delta: delta_ij or 1[i=j]."""

    symbols: dict = field(default_factory=lambda: dict(DEFAULT_SYMBOLS))
    vector_style: str = "bold"
    delta: str = "kronecker"

    def symbol(self, role: str) -> str:
        return self.symbols[role]

    def with_symbols(self, **changes: str) -> "Notation":
        return replace(self, symbols={**self.symbols, **changes})


# Canonical SymPy names -> roles (the names are fixed by the JSON contract).
NAME_TO_ROLE = {"sigma": "probs", "z": "logits", "y": "targets", "L": "loss", "K": "classes",
                "i": "i", "j": "j", "k": "k"}
