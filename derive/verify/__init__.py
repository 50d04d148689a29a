"""Check every displayed equality of a derivation: the one entry point, and the choice of strategy.

Two strategies, side by side: `generic` (the logits by definition, mpmath at test points; symbolic
K and every derivation not written over S) and `concrete` (a concrete K written over the softmax
denominator S: every entry proved exactly with O(K) work). A step that fails raises
VerificationError: a derivation never shows an unchecked or false equality.
"""
from __future__ import annotations

import functools

from .. import engine
from ..model import Derivation
from . import concrete, generic
from .generic import prove_equal, verify_step, with_definitions

__all__ = ["verify_derivation", "build_verified", "verify_step", "prove_equal", "with_definitions"]


def verify_derivation(derivation: Derivation) -> Derivation:
    """The derivation with evidence attached to every step (or raise VerificationError)."""
    strategy = concrete if concrete.applies(derivation) else generic
    return strategy.verify_derivation(derivation)


@functools.lru_cache(maxsize=64)
def build_verified(name: str, K: int | None = None, D: int | None = None, N: int | None = None) -> Derivation:
    """Build, then verify: the one place that composes the two (cached: derivations are immutable).
    Sizes are parsed already (engine.parse_K, parse_D, parse_N); see engine.build for D and N."""
    return verify_derivation(engine.build(name, K, D, N))
