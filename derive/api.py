"""The public Python API: derive a verified derivation by name, list what exists."""
from __future__ import annotations

from . import engine
from .model import Derivation
from .verify import build_verified


def derive(name: str, K: int | str | None = None, D: int | str | None = None,
           N: int | str | None = None) -> Derivation:
    """The named derivation, every step verified: symbolic sizes (None or 'symbolic'), or a concrete
    K (with D, N for the linear layers; omitted ones take engine.DEFAULT_SIZES).

    What `derive.derive` runs; its docstring is the full contract (arguments, the Derivation
    returned, UsageError and VerificationError, examples). A size above what the derivation does in
    seconds (its FAST_SIZES, `softmax-derive list`) raises SizeLimitError at once."""
    return build_verified(name, engine.parse_K(K), engine.parse_D(D), engine.parse_N(N))


def available() -> list[tuple[str, str]]:
    """(name, one-line description) for every derivation, in display order (what `derive.available` runs)."""
    return [(e.name, e.description) for e in engine.REGISTRY.values()]
