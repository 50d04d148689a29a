"""The derivations, by name. Each module builds a Derivation for symbolic K or a concrete K >= 2."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from ..errors import UsageError
from ..model import Derivation
from . import cross_entropy, log_softmax_jacobian, softmax_jacobian

MAX_CONCRETE_K = 512


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    description: str
    build_symbolic: Callable[[], Derivation]
    build_concrete: Callable[[int], Derivation]


def _entry(module: ModuleType) -> Entry:
    return Entry(module.NAME, module.TITLE, module.DESCRIPTION, module.build_symbolic, module.build_concrete)


REGISTRY: dict[str, Entry] = {e.name: e for e in map(_entry, (softmax_jacobian, log_softmax_jacobian, cross_entropy))}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def lookup(name: str) -> Entry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown derivation {name!r}; known: {', '.join(REGISTRY)}") from None


def parse_K(value: str | int | None) -> int | None:
    """'symbolic' (or None) -> None; an integer 2..MAX_CONCRETE_K -> that integer; else UsageError."""
    if value is None or value == "symbolic":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"K must be 'symbolic' or an integer >= 2, not {value!r}") from None
    if isinstance(value, str) and value.strip() != str(n):
        raise UsageError(f"K must be 'symbolic' or an integer >= 2, not {value!r}")
    if n < 2:
        raise UsageError(f"K must be at least 2, not {n}")
    if n > MAX_CONCRETE_K:
        raise UsageError(f"K must be at most {MAX_CONCRETE_K}, not {n}")
    return n


@functools.lru_cache(maxsize=64)
def build(name: str, K: int | None = None) -> Derivation:
    """The unverified derivation (cached: derivations are immutable)."""
    entry = lookup(name)
    return entry.build_symbolic() if K is None else entry.build_concrete(K)
