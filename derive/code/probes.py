"""The inputs check-code --run calls a function at, and the exact values it must return there.

Why these points: the classic bugs hide at friendly points. The upstream gradient is random (with
g = 1 the VJP's dot-product term is a constant and slips through); K = 2, 3, 5; one-hot and soft
targets; a batch of rows that differ; float32 and float64; and logits of size 1000, where an
implementation that does not subtract max z overflows. Reference values are the target's own formula
evaluated at 50 digits (check.equivalence's evaluator) at the same inputs.
Why drawn cases too: fixed inputs can be gamed (`if K == 4`, a branch on the logit spread). After
the fixed cases come cases from a seed (fresh per run, printed, `--seed N` replays): every other K
up to 8, one K from each of DRAWN_K_RANGES, and logit spreads (max z - min z) drawn log-uniformly
from SPREAD_RANGE, one per stratum, so every band of spreads a factor SAFE_BAND wide is met.
Why logits of given shapes too (red team round 4): real data has them, and a branch on them is cheap to
write. One drawn case each: all logits shifted far up, far down, a tied maximum, an exact 0, integer
logits passed as integers; among them K = 10 (MNIST) always and one K from LARGE_K_RANGE (CIFAR-100).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

import mpmath

from .. import symbols
from ..check.equivalence import evaluator
from ..check.points import Point, environments
from ..settings import CHECK_SEED, PRECISION_DIGITS
from ..check.target import CheckTarget
from .signature import Layout

KS = (2, 3, 5)  # every kind of fixed case (float32, extreme logits, soft targets) at each
ROWS = 3  # examples in a batched call
SEED = 16  # the fixed cases' own seed: they stay the same from run to run
SMALL_KS = (4, 6, 7, 8)  # with KS, every K up to 8 is met by a drawn case: a small K has nowhere to hide
DRAWN_K_RANGES = ((9, 16), (17, 64))  # one K drawn from each
SPREAD_RANGE = (1, 1000)  # max z - min z of a drawn case, log-uniform
DRAWN_COUNT = len(SMALL_KS) + len(DRAWN_K_RANGES)  # one spread stratum per drawn case
# Any band of spreads this many times wide holds a whole stratum, so a branch on it is always met (10x).
SAFE_BAND = (SPREAD_RANGE[1] / SPREAD_RANGE[0]) ** (2 / DRAWN_COUNT)
# The shapes of logits real data has, one drawn case each; a code that refuses integer logits is not wrong.
SHIFTED_UP, SHIFTED_DOWN, TIED, ZERO, INTEGER = ("all z far above 0", "all z far below 0", "a tied maximum",
                                                 "an exact 0", "integer logits (int64)")
ALL_EQUAL, NEARLY_EQUAL = "all z equal to 0 (a fresh model)", "all z within a tiny spread"
SHAPES = (SHIFTED_UP, SHIFTED_DOWN, TIED, ZERO, INTEGER, ALL_EQUAL, NEARLY_EQUAL)
# A common offset of the logits far beyond the fixed cases' [-3, 3] (SHIFTED_UP, SHIFTED_DOWN), drawn
# log-uniformly: a branch on min z > 50 or on min z > 100 is met alike.
SHIFT_RANGE = (50, 1000)
TINY_SPREAD_RANGE = (1e-9, 1e-2)  # max z - min z of NEARLY_EQUAL, log-uniform
DATASET_KS = (10,)  # MNIST's K, always met by a shaped case
LARGE_K_RANGE = (65, 128)  # one shaped case's K (CIFAR-100 is 100): above every other drawn K
SHAPED_K_RANGE = (2, 16)  # the other shaped cases' K
FIXED_SPREAD = 6  # the fixed cases' logits are in [-3, 3]
EXTREME_WEIGHT = 500  # |X W| up to ~2000 for X in [-2, 2], W in [-1, 1], D >= 2


@dataclass(frozen=True)
class Case:
    K: int
    dtype: str  # float64 | float32
    extreme: bool  # logits of size ~1000
    soft: bool  # soft targets (else one-hot)
    envs: tuple  # one Env per example (one, or ROWS for a batch of a per-example target)
    labels: tuple  # the true class of each example (0-based), for integer-label inputs
    spread: float | None = None  # max z - min z of a drawn case of random logits
    shape: str | None = None  # what is special about a drawn case's logits (SHAPES); None for random ones

    @property
    def drawn(self) -> bool:
        return self.spread is not None or self.shape is not None

    @property
    def logits_dtype(self) -> str:
        return "int64" if self.shape == INTEGER else self.dtype



def cases(goal: CheckTarget, probe: CheckTarget, layout: Layout, *, uses_targets: bool, seed: int,
          bias_free: bool = False) -> list:
    """The fixed cases (the same every run), then the drawn ones of `seed` (the same seed, the same cases)."""
    rng = random.Random(SEED)
    soft_allowed = uses_targets and not layout.labels
    out = []
    with mpmath.workdps(PRECISION_DIGITS):
        for K in _Ks(goal):
            kinds = [(False, False, "float64"), (False, False, "float32"), (True, False, "float64")]
            if soft_allowed:
                kinds.append((False, True, "float64"))
            for extreme, soft, dtype in kinds:
                out.append(_case(rng, goal, probe, layout, K, dtype, extreme, soft, None, bias_free, CHECK_SEED))
        drawn = random.Random(seed)
        for K, spread in zip(_drawn_Ks(drawn, goal), _spreads(drawn)):
            soft = soft_allowed and drawn.random() < 0.5
            out.append(_case(drawn, goal, probe, layout, K, "float64", False, soft, spread, bias_free, seed))
        for K, shape in zip(_shaped_Ks(drawn, goal), SHAPES):
            soft = soft_allowed and drawn.random() < 0.5
            out.append(_case(drawn, goal, probe, layout, K, "float64", False, soft, None, bias_free, seed, shape))
    return out


def repeat_order(count: int, seed: int) -> list:
    """The cases' indices for a second round of calls: all of them in an order drawn from `seed`, then the
    first again last. State kept between calls (a counter, a cache) then shows as a changed result."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order + [0]


def _case(rng, goal, probe, layout, K, dtype, extreme, soft, spread, bias_free, env_seed, shape=None) -> Case:
    """One call's inputs; `env_seed` seeds the target's other arrays (W, x, b: check.points.environments)."""
    rows = ROWS if layout.batched and "X" not in goal.arrays else 1
    examples = [_example(rng, goal, probe, K, extreme, soft, spread, bias_free, env_seed, shape) for _ in range(rows)]
    if "c" in probe.arrays:  # a loss over the batch has one upstream scalar, not one per row
        shared = examples[0][0].arrays["c"]
        examples = [(replace(env, arrays={**env.arrays, "c": shared}), label) for env, label in examples]
    return Case(K, dtype, extreme, soft, tuple(e for e, _ in examples), tuple(c for _, c in examples), spread, shape)


def _fixed_K(goal: CheckTarget) -> tuple | None:
    return tuple(goal.semantics.Ks) if goal.semantics is not None and goal.semantics.Ks else None


def _Ks(goal: CheckTarget) -> tuple:
    fixed = _fixed_K(goal)
    return tuple(k for k in KS if fixed is None or k in fixed) or fixed


def _in_turn(fixed: tuple, count: int) -> list:
    return [fixed[r % len(fixed)] for r in range(count)]


def _drawn_Ks(rng: random.Random, goal: CheckTarget) -> list:
    """SMALL_KS and one K from each of DRAWN_K_RANGES; a target whose K is fixed keeps its own, in turn."""
    fixed = _fixed_K(goal)
    if fixed:
        return _in_turn(fixed, DRAWN_COUNT)
    return list(SMALL_KS) + [rng.randint(low, high) for low, high in DRAWN_K_RANGES]


def _shaped_Ks(rng: random.Random, goal: CheckTarget) -> list:
    """One K per shape: DATASET_KS and one from LARGE_K_RANGE shuffled among the shapes whose code must take
    them (not INTEGER, which code may refuse), the rest from SHAPED_K_RANGE; a fixed K is kept, in turn."""
    fixed = _fixed_K(goal)
    if fixed:
        return _in_turn(fixed, len(SHAPES))
    taken = [shape for shape in SHAPES if shape != INTEGER]
    Ks = list(DATASET_KS) + [rng.randint(*LARGE_K_RANGE)]
    Ks += [rng.randint(*SHAPED_K_RANGE) for _ in range(len(taken) - len(Ks))]
    rng.shuffle(Ks)
    chosen = {**dict(zip(taken, Ks)), INTEGER: rng.randint(*SHAPED_K_RANGE)}
    return [chosen[shape] for shape in SHAPES]


def _spreads(rng: random.Random) -> list:
    """One spread per case, log-uniform over SPREAD_RANGE and stratified (case r's from the r-th of equal
    slices of log-spread, then shuffled): any band of spreads a factor SAFE_BAND wide holds a whole slice."""
    low, high = (mpmath.log(v) for v in SPREAD_RANGE)
    spreads = [float(mpmath.exp(low + (high - low) * (r + rng.random()) / DRAWN_COUNT)) for r in range(DRAWN_COUNT)]
    rng.shuffle(spreads)
    return spreads


def _logits(rng, K: int, extreme: bool, spread: float | None, shape: str | None) -> list:
    if shape is not None:
        return _shaped(rng, K, shape)
    if extreme:  # |z| ~ 1000, signs alternating, so neither exp(z) nor exp(-z) is representable
        return [mpmath.mpf(1000 * (-1) ** r + rng.uniform(-1, 1)) for r in range(K)]
    if spread is None:
        return [mpmath.mpf(rng.uniform(-3, 3)) for _ in range(K)]
    # max z - min z is exactly the spread (one logit at each end), centred near 0: |z| <= 503, so a
    # correct float64 implementation stays finite and only the spread, not overflow, is tested here.
    unit = [0.0, 1.0] + [rng.random() for _ in range(K - 2)]
    rng.shuffle(unit)
    offset = rng.uniform(-3, 3) - spread / 2
    return [mpmath.mpf(offset + spread * u) for u in unit]


def _shaped(rng, K: int, shape: str) -> list:
    """Logits of one of SHAPES, exact in float64 (a tie or a 0 survives the conversion)."""
    if shape in (SHIFTED_UP, SHIFTED_DOWN):
        sign = 1 if shape == SHIFTED_UP else -1
        shift = _log_uniform(rng, SHIFT_RANGE)
        return [mpmath.mpf(sign * (shift + rng.uniform(0, 10))) for _ in range(K)]
    if shape == ALL_EQUAL:
        return [mpmath.mpf(0)] * K
    if shape == NEARLY_EQUAL:
        spread, centre = _log_uniform(rng, TINY_SPREAD_RANGE), rng.uniform(-3, 3)
        return [mpmath.mpf(centre + spread * (r % 2)) for r in range(K)]  # max z - min z = spread exactly
    if shape == INTEGER:
        return [mpmath.mpf(rng.randint(-5, 5)) for _ in range(K)]
    z = [mpmath.mpf(rng.uniform(-3, 3)) for _ in range(K)]
    top = max(range(K), key=lambda r: z[r])
    other = rng.choice([r for r in range(K) if r != top])
    z[other] = z[top] if shape == TIED else mpmath.mpf(0)
    return z


def _log_uniform(rng, bounds: tuple) -> float:
    low, high = (float(mpmath.log(v)) for v in bounds)
    return float(mpmath.exp(rng.uniform(low, high)))


def _example(rng, goal: CheckTarget, probe: CheckTarget, K: int, extreme: bool, soft: bool, spread: float | None,
             bias_free: bool, env_seed: int, shape: str | None = None) -> tuple:
    z = _logits(rng, K, extreme, spread, shape)
    true_class = rng.randrange(K)
    if soft:
        raw = [mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(K)]
        y = [v / mpmath.fsum(raw) for v in raw]
    else:
        y = [mpmath.mpf(int(r == true_class)) for r in range(K)]
    (_assignment, env), = environments(Point(K, tuple(z), tuple(y)), (), probe.arrays, goal.semantics, env_seed)
    arrays = dict(env.arrays)
    # Non-uniform upstream gradients, different for every example (environments' are seeded per K).
    for name in ("g", "c"):
        if name in probe.arrays:
            arrays[name] = [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(K)]
    if extreme and bias_free:  # scores X W reach ~1000 only through large weights when there is no bias
        arrays["W"] = arrays["W"] * EXTREME_WEIGHT
    elif spread is not None and bias_free:  # the spread of the scores then scales with the weights
        arrays["W"] = arrays["W"] * mpmath.mpf(spread / FIXED_SPREAD)
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
