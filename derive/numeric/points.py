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

from ..model import Semantics
from ..settings import VERIFY_SEED
from .softmax import default_derived
from .state import Env

SYMBOLIC_KS = (2, 3, 5, 8)
RANDOM_POINTS_PER_K = 2
_K = sp.Symbol("K", integer=True, positive=True)


@dataclass(frozen=True)
class PointSpec:
    """What a step needs from a point: which indices are free, which arrays exist."""

    free_indices: tuple  # sympy Symbols to enumerate over 1..K (or 1..its size in `index_ranges`)
    condition: sp.Basic = sp.true
    targets_on_simplex: bool = False
    semantics: Semantics | None = None  # extra arrays, scalars, derived arrays, sizes


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


def index_assignments(free: tuple, n: int, condition: sp.Basic, *, uppers: dict | None = None) -> list:
    """Every assignment of the free indices (in 1..n, or 1..uppers[index]) satisfying the condition."""
    out = []
    uppers = uppers or {}
    for values in itertools.product(*(range(1, uppers.get(ix, n) + 1) for ix in free)):
        assignment = dict(zip(free, values))
        if condition is sp.true or bool(condition.xreplace({s: sp.Integer(v) for s, v in assignment.items()})):
            out.append(assignment)
    return out


def semantic_sizes(semantics: Semantics | None, n: int) -> tuple[dict, dict]:
    """(the other sizes at K = n, e.g. {D: 3}; each ranged index's upper bound, e.g. {d: 3})."""
    if semantics is None:
        return {}, {}
    sizes = semantics.sizes(n) if semantics.sizes else {}
    return sizes, {ix: sizes[size] for ix, size in semantics.index_ranges.items()}


def semantic_derived(semantics: Semantics | None) -> dict:
    """What a point computes from its arrays: sigma and S, and the semantics' own (z = W x + b)."""
    return {**default_derived(), **(semantics.derived if semantics else {})}


def semantic_inputs(semantics: Semantics | None, rng: random.Random, n: int, sizes: dict,
                    arrays: dict) -> tuple[dict, dict]:
    """(arrays, scalars) of one point: the semantics' own arrays (g, W, x, b, ...) drawn from rng
    given the logits arrays["z"], derived ones removed (z = W x + b: perturbing W must move it),
    and its scalars (T, epsilon, u, ...). The one reading of Semantics the verifier and the
    checker share, so both draw the same kinds of points."""
    if semantics is None:
        return arrays, {}
    arrays = dict(arrays)
    if semantics.arrays:
        arrays.update(semantics.arrays(rng, arrays["z"], {_K: n, **sizes}))
    for name in semantics.derived:
        arrays.pop(name, None)
    return arrays, semantics.scalars(rng, arrays) if semantics.scalars else {}


def environments(spec: PointSpec, *, Ks=SYMBOLIC_KS) -> list:
    """All test points for one step; deterministic (seeded) so failures reproduce."""
    rng = random.Random(VERIFY_SEED)
    semantics = spec.semantics
    derived = semantic_derived(semantics)
    entry_indices = frozenset(spec.free_indices) - frozenset(semantics.derived_reads if semantics else ())
    envs = []
    for n in Ks:
        sizes, uppers = semantic_sizes(semantics, n)
        for logits in logit_sets(n, rng):
            arrays = {"z": logits, "y": _targets(rng, n, on_simplex=spec.targets_on_simplex)}
            arrays, extra_scalars = semantic_inputs(semantics, rng, n, sizes, arrays)
            across_indices: dict = {}  # numeric derivatives that read no free index: once per point
            for assignment in index_assignments(spec.free_indices, n, spec.condition, uppers=uppers):
                scalars = {_K: n, **sizes, **extra_scalars, **assignment}
                envs.append(Env(K=n, arrays=arrays, scalars=scalars, derived=derived, entry_indices=entry_indices,
                                across_indices=across_indices))
    return envs
