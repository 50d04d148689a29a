"""Where equalities are tested: several K, every index assignment, random and extreme logits.

Extreme logits (|z| ~ 1000) would overflow a naive float64 exp; mpmath's unbounded exponent range
plus the max-shifted softmax in `stable_softmax` keeps every value exact to the working precision.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import mpmath
import sympy as sp

from .evaluate import Env, default_derived

SYMBOLIC_KS = (2, 3, 5, 8)
RANDOM_POINTS_PER_K = 2
SEED = 20261124


@dataclass(frozen=True)
class PointSpec:
    """What a step needs from a point: which indices are free, which arrays exist."""

    free_indices: tuple  # sympy Symbols to enumerate over 1..K
    condition: sp.Basic = sp.true
    targets_on_simplex: bool = False


def _random_logits(rng: random.Random, n: int) -> list:
    return [mpmath.mpf(rng.uniform(-3, 3)) for _ in range(n)]


def _extreme_logits(rng: random.Random, n: int, *, sign: int) -> list:
    """Around ±1000, spread a little so that several classes keep a visible probability."""
    return [mpmath.mpf(sign * 1000 + rng.uniform(-4, 4)) for _ in range(n)]


def _targets(rng: random.Random, n: int, *, on_simplex: bool) -> list:
    raw = [mpmath.mpf(rng.uniform(0.05, 1.0)) for _ in range(n)]
    if on_simplex:
        total = mpmath.fsum(raw)
        return [v / total for v in raw]
    return raw


def logit_sets(n: int, rng: random.Random) -> list:
    """Random logits, then two extreme sets (near +1000 and near -1000)."""
    sets = [_random_logits(rng, n) for _ in range(RANDOM_POINTS_PER_K)]
    sets.append(_extreme_logits(rng, n, sign=+1))
    sets.append(_extreme_logits(rng, n, sign=-1))
    return sets


def index_assignments(free: tuple, n: int, condition: sp.Basic) -> list:
    """Every assignment of the free indices in 1..n that satisfies the step's condition."""
    out = []
    for values in itertools.product(range(1, n + 1), repeat=len(free)):
        assignment = dict(zip(free, values))
        if condition is sp.true or bool(condition.xreplace({s: sp.Integer(v) for s, v in assignment.items()})):
            out.append(assignment)
    return out


def environments(spec: PointSpec, *, Ks=SYMBOLIC_KS, extra_arrays=None) -> list:
    """All test points for one step; deterministic (seeded) so failures reproduce."""
    rng = random.Random(SEED)
    envs = []
    for n in Ks:
        for logits in logit_sets(n, rng):
            arrays = {"z": logits, "y": _targets(rng, n, on_simplex=spec.targets_on_simplex)}
            if extra_arrays:
                arrays.update(extra_arrays(rng, n))
            for assignment in index_assignments(spec.free_indices, n, spec.condition):
                scalars = {sp.Symbol("K", integer=True, positive=True): n, **assignment}
                envs.append(Env(K=n, arrays=arrays, scalars=scalars, derived=default_derived()))
    return envs
