"""The inputs check-code --run calls a function at, and the exact values it must return there.

Why these points: the classic bugs hide at friendly points. The upstream gradient is random (with
g = 1 the VJP's dot-product term is a constant and slips through); K = 2, 3, 5; one-hot and soft
targets; a batch of rows that differ; float32 and float64; and logits of size 1000, where an
implementation that does not subtract max z overflows. Reference values are the target's own formula
evaluated at 50 digits (check.equivalence's evaluator) at the same inputs.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

import mpmath

from .. import symbols
from ..check.equivalence import evaluator
from ..check.points import Point, environments
from ..settings import PRECISION_DIGITS
from ..check.target import CheckTarget
from .signature import Layout

KS = (2, 3, 5)
ROWS = 3  # examples in a batched call
SEED = 16
EXTREME_WEIGHT = 500  # |X W| up to ~2000 for X in [-2, 2], W in [-1, 1], D >= 2


@dataclass(frozen=True)
class Case:
    K: int
    dtype: str  # float64 | float32
    extreme: bool  # logits of size ~1000
    soft: bool  # soft targets (else one-hot)
    envs: tuple  # one Env per example (one, or ROWS for a batch of a per-example target)
    labels: tuple  # the true class of each example (0-based), for integer-label inputs


def cases(goal: CheckTarget, probe: CheckTarget, layout: Layout, *, uses_targets: bool, bias_free: bool = False) -> list:
    rng = random.Random(SEED)
    out = []
    with mpmath.workdps(PRECISION_DIGITS):
        for K in _Ks(goal):
            kinds = [(False, False, "float64"), (False, False, "float32"), (True, False, "float64")]
            if uses_targets and not layout.labels:
                kinds.append((False, True, "float64"))
            for extreme, soft, dtype in kinds:
                rows = ROWS if layout.batched and "X" not in goal.arrays else 1
                examples = [_example(rng, goal, probe, K, extreme, soft, bias_free) for _ in range(rows)]
                if "c" in probe.arrays:  # a loss over the batch has one upstream scalar, not one per row
                    shared = examples[0][0].arrays["c"]
                    examples = [(replace(env, arrays={**env.arrays, "c": shared}), label) for env, label in examples]
                out.append(Case(K, dtype, extreme, soft, tuple(e for e, _ in examples), tuple(c for _, c in examples)))
    return out


def _Ks(goal: CheckTarget) -> tuple:
    fixed = goal.semantics.Ks if goal.semantics is not None and goal.semantics.Ks else None
    return tuple(k for k in KS if fixed is None or k in fixed) or tuple(fixed)


def _example(rng, goal: CheckTarget, probe: CheckTarget, K: int, extreme: bool, soft: bool, bias_free: bool) -> tuple:
    if extreme:  # |z| ~ 1000, signs alternating, so neither exp(z) nor exp(-z) is representable
        z = [mpmath.mpf(1000 * (-1) ** r + rng.uniform(-1, 1)) for r in range(K)]
    else:
        z = [mpmath.mpf(rng.uniform(-3, 3)) for _ in range(K)]
    true_class = rng.randrange(K)
    if soft:
        raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(K)]
        y = [v / mpmath.fsum(raw) for v in raw]
    else:
        y = [mpmath.mpf(int(r == true_class)) for r in range(K)]
    (_assignment, env), = environments(Point(K, tuple(z), tuple(y)), (), probe.arrays, goal.semantics)
    arrays = dict(env.arrays)
    # Non-uniform upstream gradients, different for every example (environments' are seeded per K).
    for name in ("g", "c"):
        if name in probe.arrays:
            arrays[name] = [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(K)]
    if extreme and bias_free:  # scores X W reach ~1000 only through large weights when there is no bias
        arrays["W"] = arrays["W"] * EXTREME_WEIGHT
    if "Y" in arrays:  # batched-linear: its own rows of targets, one-hot or soft like the others
        arrays["Y"] = _batch_targets(rng, arrays["Y"], soft)
    return replace(env, arrays=arrays, memo={}), true_class


def _batch_targets(rng, targets, soft: bool):
    out = mpmath.matrix(targets.rows, targets.cols)
    for r in range(targets.rows):
        if soft:
            for c in range(targets.cols):
                out[r, c] = targets[r, c]
        else:
            out[r, rng.randrange(targets.cols)] = 1
    return out


def entries(expr, probe: CheckTarget, env, shape_indices: tuple, sizes: dict) -> list:
    """The array of `expr` over the probe's free indices at one example: nested lists of mpf."""
    run = evaluator(expr, probe)
    spans = [range(1, sizes[ix] + 1) for ix in shape_indices]
    values = {}
    with mpmath.workdps(PRECISION_DIGITS):
        for combo in itertools.product(*spans):
            point = env
            for symbol, value in zip(shape_indices, combo):
                point = point.with_scalar(symbol, value)
            values[combo] = run(point, dict(zip(shape_indices, combo)))
    return _nest(values, [len(s) for s in spans])


def _nest(values: dict, lengths: list, prefix: tuple = ()) -> object:
    if len(prefix) == len(lengths):
        return values[prefix]
    return [_nest(values, lengths, prefix + (r,)) for r in range(1, lengths[len(prefix)] + 1)]


def sizes_at(env, goal: CheckTarget) -> dict:
    """How far each index runs at this example: K for class indices, D for d."""
    ranges = goal.semantics.index_ranges if goal.semantics is not None else {}
    out = {}
    for symbol in (symbols.i, symbols.j, symbols.d):
        out[symbol] = int(env.scalars[ranges[symbol]]) if symbol in ranges else env.K
    return out
