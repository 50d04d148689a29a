"""The points an answer is evaluated at: readable ones first, then seeded random logits.

Why readable first: the first point where the answer and the target disagree becomes the
counterexample, and sigma = (0.1, 0.2, 0.3, 0.4) can be checked by hand (z = log sigma).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import mpmath

from ..numeric.evaluate import Env, default_derived
from .. import symbols as S

PRECISION_DIGITS = 50
SEED = 5
READABLE = (  # (sigma, one-hot or simple y)
    (("0.1", "0.2", "0.3", "0.4"), ("0", "0", "1", "0")),
    (("0.2", "0.3", "0.5"), ("0.2", "0.5", "0.3")),
    (("0.25", "0.75"), ("1", "0")),
)
RANDOM_KS = (5, 3)


@dataclass(frozen=True)
class Point:
    """Logits (and targets) for one K; `sigma_text` is set for readable points."""

    K: int
    z: tuple
    y: tuple
    sigma_text: tuple | None = None


def points(*, simplex: bool, arrays: tuple = ("z", "y")) -> list:
    """Deterministic: the same answer always gets the same counterexample."""
    rng = random.Random(SEED)
    out = []
    for sigma, y in READABLE:
        # z = 1 + log sigma: softmax(z) = sigma exactly, and e^{z_k} != sigma_k, so a forgotten
        # normalisation shows at the readable point too.
        z = tuple(1 + mpmath.log(mpmath.mpf(s)) for s in sigma)
        out.append(Point(len(sigma), z, tuple(mpmath.mpf(v) for v in y), sigma))
    for n in RANDOM_KS:
        z = tuple(mpmath.mpf(rng.uniform(-3, 3)) for _ in range(n))
        raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(n)]
        total = mpmath.fsum(raw) if simplex else 1
        out.append(Point(n, z, tuple(v / total for v in raw)))
    return out


def environments(point: Point, free: tuple, arrays: tuple = ()) -> list:
    """(assignment, Env) for every assignment of the free indices in 1..K (i = j and i != j alike)."""
    rng = random.Random(SEED + point.K)
    values = {"z": list(point.z), "y": list(point.y)}
    for name in arrays:  # inputs of future derivations (g, x, ...): seeded random entries
        values.setdefault(name, [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(point.K)])
    out = []
    for combo in itertools.product(range(1, point.K + 1), repeat=len(free)):
        assignment = dict(zip(free, combo))
        env = Env(K=point.K, arrays=values, scalars={S.K: point.K, **assignment}, derived=default_derived())
        out.append((assignment, env))
    return out
