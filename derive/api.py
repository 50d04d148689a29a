"""The public Python API: derive a verified derivation by name, list what exists."""
from __future__ import annotations

import functools

from . import engine
from .model import Derivation
from .verify import verify_derivation


@functools.lru_cache(maxsize=64)
def derive(name: str, K: int | str | None = None) -> Derivation:
    """The named derivation for symbolic K (None or 'symbolic') or a concrete K, every step verified."""
    return verify_derivation(engine.build(name, engine.parse_K(K)))


def available() -> list[tuple[str, str]]:
    """(name, one-line description) for every derivation."""
    return [(e.name, e.description) for e in engine.REGISTRY.values()]
