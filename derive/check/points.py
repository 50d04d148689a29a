"""The points an answer is evaluated at: readable ones first, then seeded random logits.

Why readable first: the first point where the answer and the target disagree becomes the
counterexample, and sigma = (0.1, 0.2, 0.3, 0.4) can be checked by hand (z = log sigma).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import mpmath

from ..numeric.state import Env
from ..model import Semantics
from ..numeric.points import semantic_derived, semantic_inputs, semantic_sizes
from ..settings import CHECK_SEED
from .. import symbols

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


def points(*, simplex: bool, arrays: tuple = ("z", "y"), semantics=None) -> list:
    """Deterministic: the same answer always gets the same counterexample. A derivation whose K is
    fixed (sigmoid-logistic: K = 2) is tested at that K only, readable point first."""
    rng = random.Random(CHECK_SEED)
    allowed = semantics.Ks if semantics is not None and semantics.Ks else None
    readable_sigma = semantics is None or not ({"sigma", "P"} & set(semantics.derived)) or "z" in semantics.derived
    out = []
    for sigma, y in READABLE:
        if allowed and len(sigma) not in allowed:
            continue
        # z = 1 + log sigma: softmax(z) = sigma exactly, and e^{z_k} != sigma_k, so a forgotten
        # normalisation shows at the readable point too.
        z = tuple(1 + mpmath.log(mpmath.mpf(s)) for s in sigma)
        out.append(Point(len(sigma), z, tuple(mpmath.mpf(v) for v in y), sigma if readable_sigma else None))
    for n in (RANDOM_KS if not allowed else tuple(allowed) * 2):
        z = tuple(mpmath.mpf(rng.uniform(-3, 3)) for _ in range(n))
        raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(n)]
        total = mpmath.fsum(raw) if simplex else 1
        out.append(Point(n, z, tuple(v / total for v in raw)))
    return out


def sample(chosen: list) -> list:
    """Two points for the quick probes of mistake naming: the first readable one and a random one."""
    return [chosen[0], chosen[min(3, len(chosen) - 1)]]


def environments(point: Point, free: tuple, arrays: tuple = (), semantics: Semantics | None = None) -> list:
    """(assignment, Env) for every assignment of the free indices (i = j and i != j alike): in 1..K,
    or 1..D for d and 1..N for n where the derivation's semantics says so. The derivation's own
    semantics (engine) supplies its extra arrays (g, W, x, b, X, Y), scalars (T, epsilon, u) and
    derived arrays (sigma = softmax(z / T), z = W x + b), as for its verifier."""
    rng = random.Random(CHECK_SEED + point.K)
    derived = semantic_derived(semantics)
    sizes, uppers = semantic_sizes(semantics, point.K)
    values, scalars = semantic_inputs(semantics, rng, point.K, sizes, {"z": list(point.z), "y": list(point.y)})
    for name in arrays:  # inputs no semantics describes: seeded random entries
        if name not in derived:
            values.setdefault(name, [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(point.K)])
    out = []
    ranges = [range(1, uppers.get(ix, point.K) + 1) for ix in free]
    for combo in itertools.product(*ranges):
        assignment = dict(zip(free, combo))
        env = Env(K=point.K, arrays=values, scalars={symbols.K: point.K, **sizes, **scalars, **assignment},
                  derived=derived)
        out.append((assignment, env))
    return out


def shown(env: Env) -> tuple:
    """The inputs besides z and y a person needs to redo a counterexample: (name, value(s)) pairs."""
    out = []
    for name, value in sorted(env.arrays.items()):
        if name in ("z", "y"):
            continue
        if isinstance(value, mpmath.matrix):
            out.append((name, [[round(float(value[r, c]), 6) for c in range(value.cols)] for r in range(value.rows)]))
        else:
            out.append((name, [round(float(v), 6) for v in value]))
    for symbol, value in env.scalars.items():
        if str(symbol) in ("T", "epsilon", "u", "c", "M", "D", "N"):
            number = round(float(value), 6)
            out.append((str(symbol), int(number) if str(symbol) in ("D", "N") else number))
    return tuple(out)
