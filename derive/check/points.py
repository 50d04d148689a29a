"""The points an answer is evaluated at: readable ones first, then random logits from a seed.

Why readable first: the first point where the answer and the target disagree becomes the
counterexample, and sigma = (0.1, 0.2, 0.3, 0.4) can be checked by hand (z = log sigma).
Why a fresh seed per check: points listed in a README can be gamed (a term that vanishes there
passes); the seed is recorded in the verdict, so any verdict can be replayed (`--seed N`).
"""
from __future__ import annotations

import collections
import itertools
import random
import secrets
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
# Random points: every K up to 8 is met, then larger K (a term like (K-2)(K-3)(K-4)(K-5) sigma_i
# vanishes below 6 only), and one K drawn from the seed in LARGE_K_RANGE that nobody can predict.
RANDOM_KS = (5, 3, 6, 7, 8, 13, 29)
LARGE_K_RANGE = (9, 64)
# Above this many index assignments at one point, a sample is taken: i = j and i != j at the ends
# of the range, then random ones (all of them at the readable points and at K <= 5).
MAX_ASSIGNMENTS = 8
NAMING_LARGE_K = 13


def fresh_seed() -> int:
    """A seed from the OS: the points of one check cannot be known before it runs."""
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Point:
    """Logits (and targets) for one K; `sigma_text` is set for readable points."""

    K: int
    z: tuple
    y: tuple
    sigma_text: tuple | None = None


# Points and their environments are immutable and depend only on their arguments: kept for the few
# most recent (seed, target) pairs, since one check compares many candidates at the same points.
_CACHE: collections.OrderedDict = collections.OrderedDict()
_CACHE_SIZE = 64


def _cached(key: tuple, make, keep: tuple = ()):
    """`make()` once per key; `keep` holds the objects whose ids are in the key, so no id is reused."""
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key][1]
    value = make()
    _CACHE[key] = (keep, value)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def points(*, simplex: bool, semantics=None, seed: int = CHECK_SEED) -> list:
    """The readable points, then random ones from `seed` (the same seed, the same points). A derivation
    whose K is fixed (sigmoid-logistic: K = 2) is tested at that K only, readable point first."""
    # id(semantics): Semantics holds dicts (unhashable); the cache keeps the object alive, so the id stays its own.
    return _cached(("points", simplex, id(semantics), seed, mpmath.mp.dps),
                   lambda: _points(simplex, semantics, seed), (semantics,))


def _points(simplex: bool, semantics, seed: int) -> list:
    rng = random.Random(seed)
    drawn_K = rng.randint(*LARGE_K_RANGE)  # drawn first: `largest_K` reads it without building points
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
    Ks = RANDOM_KS + (drawn_K,) if not allowed else tuple(allowed) * 2
    for n in Ks:
        z = tuple(mpmath.mpf(rng.uniform(-3, 3)) for _ in range(n))
        raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(n)]
        total = mpmath.fsum(raw) if simplex else 1
        out.append(Point(n, z, tuple(v / total for v in raw)))
    return out


def largest_K(seed: int, semantics=None) -> int:
    """The largest K among the points of `seed` (as `points` draws them)."""
    if semantics is not None and semantics.Ks:
        return max(semantics.Ks)
    return max(RANDOM_KS + (random.Random(seed).randint(*LARGE_K_RANGE),))


def sample(chosen: list) -> list:
    """The points of the quick probes of mistake naming: the first readable one, a random one, and
    one at a larger K (a term that vanishes for small K only must not look like the target there)."""
    large = [p for p in chosen if p.K == NAMING_LARGE_K]
    return [chosen[0], chosen[min(3, len(chosen) - 1)], *large[:1]]


def environments(point: Point, free: tuple, arrays: tuple = (), semantics: Semantics | None = None,
                 seed: int = CHECK_SEED) -> list:
    """See `_environments`; cached per (point, indices, arrays, semantics, seed)."""
    return _cached(("envs", id(point), free, arrays, id(semantics), seed, mpmath.mp.dps),
                   lambda: _environments(point, free, arrays, semantics, seed), (point, semantics))


def _environments(point: Point, free: tuple, arrays: tuple, semantics: Semantics | None, seed: int) -> list:
    """(assignment, Env) for the assignments of the free indices (i = j and i != j alike): in 1..K,
    or 1..D for d and 1..N for n where the derivation's semantics says so; all of them up to
    MAX_ASSIGNMENTS, else a sample (see `_assignments`). The derivation's own semantics (engine)
    supplies its extra arrays (g, W, x, b, X, Y), scalars (T, epsilon, u) and derived arrays
    (sigma = softmax(z / T), z = W x + b), as for its verifier."""
    rng = random.Random(seed + point.K)
    derived = semantic_derived(semantics)
    sizes, uppers = semantic_sizes(semantics, point.K)
    values, scalars = semantic_inputs(semantics, rng, point.K, sizes, {"z": list(point.z), "y": list(point.y)})
    for name in arrays:  # inputs no semantics describes: seeded random entries
        if name not in derived:
            values.setdefault(name, [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(point.K)])
    out = []
    memo: dict = {}  # sigma, S, ... depend on the point, not on the index values: computed once per point
    tops = [uppers.get(ix, point.K) for ix in free]
    for combo in _assignments(tops, rng, exhaustive=point.sigma_text is not None or point.K <= 5):
        assignment = dict(zip(free, combo))
        env = Env(K=point.K, arrays=values, scalars={symbols.K: point.K, **sizes, **scalars, **assignment},
                  derived=derived, memo=memo)
        out.append((assignment, env))
    return out


def _assignments(tops: list, rng: random.Random, *, exhaustive: bool) -> list:
    """Every tuple of index values (each in 1..top), or for a large K a sample: all equal at 1 and
    at the top, all distinct from the bottom and from the top, then random tuples."""
    total = 1
    for top in tops:
        total *= top
    if exhaustive or total <= MAX_ASSIGNMENTS:
        return list(itertools.product(*(range(1, top + 1) for top in tops)))
    picked = [tuple(1 for _ in tops), tuple(tops),
              tuple(min(r + 1, top) for r, top in enumerate(tops)), tuple(max(top - r, 1) for r, top in enumerate(tops))]
    while len(set(picked)) < MAX_ASSIGNMENTS:
        picked.append(tuple(rng.randint(1, top) for top in tops))
    return list(dict.fromkeys(picked))


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
