"""Decide whether an answer agrees with the target numerically: 50-digit evaluation at many points.

Numeric disagreement always means "incorrect" (and yields a counterexample); agreement at every
point, every K, i = j and i != j separately, lets the proof (proof.py) say how sure "correct" is.
Work is bounded by CPU time, not wall time, so a busy machine gives the same verdict as an idle one;
a check that exhausts its allowance is "undecided", never "correct".
"""
from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import signal
import threading
import time
from dataclasses import dataclass, replace

import mpmath
import sympy as sp
from mpmath.libmp import finf, fnan, fninf, fone, mpf_abs, mpf_gt, mpf_le, mpf_mul, mpf_sub

from ..errors import DeriveError
from ..numeric.state import EvaluationError, NotAnInput
from ..numeric.evaluate import compile_expr
from ..algebra.indices import free_indices
from .. import symbols
from ..settings import PRECISION_DIGITS
from ..settings import CHECK_SEED
from .points import Point, environments, points, sample as sample_points, shown
from .target import CheckTarget

RELATIVE_TOLERANCE = mpmath.mpf("1e-30")  # +10^{-12} is caught by 18 orders of magnitude
DERIVATIVE_TOLERANCE = mpmath.mpf("1e-20")  # numeric differentiation loses some digits
# CPU-second allowances: the verdict (comparison and proof), then mistake naming on its own, so a
# slow proof cannot starve the naming. Measured in process CPU time, which load does not stretch.
TIME_LIMIT_SECONDS = 5.0
NAMING_SECONDS = 5.0
# Wall-clock safety net only, for input that stalls outside the interpreter: far above any real check
# even on a machine shared by many processes (the CPU allowance decides everything else).
WALL_SAFETY_SECONDS = 120.0


class Undecided(DeriveError):
    """The check could not finish (time limit, or a value that cannot be computed)."""

    exit_code = 3


class CheckTimeout(Undecided):
    pass


@dataclass(frozen=True)
class Counterexample:
    """A point where the answer and the target differ, small enough to check by hand."""

    K: int
    indices: tuple  # ((name, value), ...)
    z: tuple
    y: tuple | None
    expected: float
    got: float
    sigma_text: tuple | None = None
    inputs: tuple = ()  # ((name, value or values), ...): g, W, x, b, X, Y, T, epsilon, u where the target has them

    def index(self, name: str):
        return dict(self.indices).get(name)


@dataclass(frozen=True)
class Comparison:
    agree: bool
    counterexample: Counterexample | None
    checked: int
    message: str = ""


def cpu_deadline(seconds: float) -> float:
    """The `time.thread_time()` value past which a cooperative loop gives up. The check runs in one
    thread, and this thread's CPU clock keeps its nanoseconds while the SIGPROF timer is armed, when
    Linux serves the process's clock (`time.process_time()`) from the timer's counter, which moves
    only at scheduler ticks (4 ms): a check faster than a tick read no time used at all, and a
    1e-6 s allowance gave "correct" about one time in twenty."""
    return time.thread_time() + seconds


@contextlib.contextmanager
def time_limit(seconds: float = TIME_LIMIT_SECONDS):
    """Interrupt a long evaluation after `seconds` of this process's CPU time (SIGPROF), with a wall
    clock net far above it (SIGALRM), when we own the main thread (CLI, grade workers); elsewhere
    the cooperative CPU deadline checks in `compare` still apply."""
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGPROF")
    if not usable:
        yield
        return
    active = [True]
    def expire(_signum, _frame):
        if active[0]:  # a signal delivered late, after the block, is ignored
            active[0] = False
            raise CheckTimeout(f"the check used more than {seconds:g} s of CPU time")
    timers = ((signal.SIGPROF, signal.ITIMER_PROF, seconds),
              (signal.SIGALRM, signal.ITIMER_REAL, max(seconds, WALL_SAFETY_SECONDS)))
    previous = [(signum, signal.signal(signum, expire)) for signum, _timer, _s in timers]
    for _signum, timer, limit in timers:
        signal.setitimer(timer, limit)
    try:
        yield
    finally:
        active[0] = False
        for _signum, timer, _limit in timers:
            signal.setitimer(timer, 0)
        for signum, handler in previous:
            signal.signal(signum, handler)


def prepare(expr: sp.Basic, target: CheckTarget) -> sp.Basic:
    """Definitions substituted (L), and derivatives with respect to sigma done symbolically:
    the evaluator recomputes sigma from z, so it can only differentiate with respect to z."""
    expr = target.substitute(expr)
    if not expr.has(sp.Derivative):  # nothing to do: replace would still rebuild the whole tree
        return expr
    def by_sigma(d):
        return isinstance(d, sp.Derivative) and any(isinstance(v, sp.Indexed) and v.base == symbols.sigma
                                                     for v in d.variables)
    return expr.replace(by_sigma, lambda d: sp.diff(d.expr, *d.variables).doit())


def evaluator(expr: sp.Basic, target: CheckTarget):
    """A function (env, assignment) -> mpf: the entry the target's free indices pick out."""
    prepared = prepare(expr, target)
    compiled = compile_expr(prepared)
    # A whole matrix or vector (diag(sigma) - sigma sigma^T) holds no index: its value is the same for
    # every assignment of a point, so it is computed once per point (in the point's memo, which is
    # dropped when an array changes) and only the entry is picked per assignment.
    per_point = object() if isinstance(prepared, sp.MatrixExpr) and not prepared.has(sp.Derivative) and not any(
        isinstance(s, sp.Symbol) and s not in _SIZES for s in prepared.free_symbols) else None
    def run(env, assignment):
        if per_point is None:
            value = compiled(env)
        else:
            value = env.memo.get(per_point)
            if value is None:
                value = env.memo[per_point] = compiled(env)
        if isinstance(value, mpmath.matrix):
            order = entry_order(target)
            picks = [assignment[s] for s in order]
            shape = [_upper(s, env, target) for s in order]
            if len(picks) == 1 and (value.rows, value.cols) == (shape[0], 1):
                return value[picks[0] - 1]
            if len(picks) == 2 and (value.rows, value.cols) == tuple(shape):
                return value[picks[0] - 1, picks[1] - 1]
            raise ShapeMismatch(f"a {value.rows}x{value.cols} result where one entry per "
                                f"{', '.join(map(str, target.free))} is expected")
        return value
    return run


_SIZES = frozenset({symbols.K, symbols.D, symbols.N})


def _upper(index, env, target: CheckTarget) -> int:
    """How far an index runs at this point: K, or D for d and N for n where the semantics says so."""
    ranges = target.semantics.index_ranges if target.semantics is not None else {}
    return int(env.scalars[ranges[index]]) if index in ranges else env.K


def entry_order(target: CheckTarget) -> tuple:
    """The free indices in the order the question indexes its entry: (i, d) for dL/dW_{id}."""
    lhs = target.lhs
    entry = lhs.variables[0] if isinstance(lhs, sp.Derivative) and len(lhs.variables) == 1 else lhs
    if isinstance(entry, sp.Indexed):
        order = tuple(ix for ix in entry.indices if ix in target.free)
        if len(order) == len(target.free):
            return order
    return tuple(target.free)


class ShapeMismatch(DeriveError):
    exit_code = 1


def free_indices_once(expr) -> frozenset:
    """free_indices, once per expression: a check asks it of the same answer while aligning it,
    describing its reading, comparing it and naming its mistake (of the answer and the target for
    every candidate); a mutable matrix, which cannot be a cache key, each time."""
    return _free_indices_of(expr) if isinstance(expr, sp.Basic) else frozenset(free_indices(expr))


@functools.lru_cache(maxsize=256)
def _free_indices_of(expr: sp.Basic) -> frozenset:
    return frozenset(free_indices(expr))


def enumerated_indices(expr: sp.Basic, target: CheckTarget) -> tuple:
    """The target's free indices plus any other free index the answer uses (an index slip)."""
    extra = sorted((free_indices_once(expr) | free_indices_once(target.result)) - set(target.free), key=str)
    return tuple(target.free) + tuple(extra[:2])


def close(a, b, tolerance) -> bool:
    """|a - b| <= tolerance * max(1, |a|, |b|), for finite a and b. For three mpf values (nearly every
    call: a check makes dozens) the same operations on their raw values at the working precision,
    without mpmath's number objects in between (about half the time); any other value, the same test
    on the objects."""
    if type(a) is mpmath.mpf and type(b) is mpmath.mpf and type(tolerance) is mpmath.mpf:
        x, y = a._mpf_, b._mpf_
        if x in _NOT_FINITE or y in _NOT_FINITE:
            return False
        prec, rounding = mpmath.mp._prec_rounding
        largest = fone
        for size in (mpf_abs(x, prec, rounding), mpf_abs(y, prec, rounding)):
            if mpf_gt(size, largest):
                largest = size
        return mpf_le(mpf_abs(mpf_sub(x, y, prec, rounding), prec, rounding),
                      mpf_mul(tolerance._mpf_, largest, prec, rounding))
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
        return False
    return abs(a - b) <= tolerance * max(1, abs(a), abs(b))


_NOT_FINITE = (finf, fninf, fnan)


def safe(run, env, assignment):
    """A value, or nan where it cannot be computed (log of 0, division by 0 at this point)."""
    try:
        value = run(env, assignment)
    except NotAnInput:
        raise  # no point can compute it: the answer asks another question
    except (ZeroDivisionError, ValueError, OverflowError, EvaluationError):
        return mpmath.nan
    if isinstance(value, mpmath.mpc):
        return value.real if value.imag == 0 else mpmath.nan
    return value


def places(condition: sp.Basic) -> list:
    """Each place a piece is stated at, as {K: n, i: r, j: c}: every assignment of the values the
    condition's equalities name that makes it true. SymPy merges equal entries into one piece and may
    restate the condition ((K = 2 & i = 1 & j = 2) | (K = 2 & i = 2 & j = 1) as K = 2 & (i = 1 | j = 1)
    & ...), so the places are found by trying the named values, not by reading the condition's shape;
    a condition that is not made of equalities (K >= 2) gives none."""
    if condition is sp.true or not condition.atoms(sp.Eq) or condition.atoms(sp.Ne, sp.Ge, sp.Gt, sp.Le, sp.Lt):
        return []
    named: dict = {}
    for eq in condition.atoms(sp.Eq):
        symbol, value = (eq.lhs, eq.rhs) if eq.rhs.is_Integer else (eq.rhs, eq.lhs)
        if not (isinstance(symbol, sp.Symbol) and value.is_Integer):
            return []
        named.setdefault(symbol, set()).add(value)
    symbols_named = sorted(named, key=str)
    return [dict(zip(symbols_named, values))
            for values in itertools.product(*(sorted(named[s]) for s in symbols_named))
            if condition.xreplace(dict(zip(symbols_named, values))) is sp.true]


def _pinned_places(answer: sp.Basic, free: tuple) -> list:
    """The index values (and K) the answer's pieces are stated at, where they name every free index:
    an entry written out ({K: 6, i: 1, j: 6}) or a left side naming one (d L / d z_7: {i: 7})."""
    if not answer.has(sp.Piecewise):
        return []
    found = [place for piece in answer.atoms(sp.Piecewise) for _expr, condition in piece.args
             for place in places(condition) if all(index in place for index in free)]
    return list({tuple(sorted(place.items(), key=str)): place for place in found}.values())


def _with_pinned(point: Point, envs: list, free: tuple, pinned: list) -> list:
    """(key, (assignment, env)) for the point's assignments, then for each pinned place the point can
    hold that its sample of assignments missed (at K = 29 only eight of the 841 index pairs are drawn:
    an entry stated at one place would be compared nowhere). The env is the point's, other indices."""
    out = list(enumerate(envs))
    if not pinned or not envs:
        return out
    present = {tuple(assignment[index] for index in free) for assignment, _env in envs}
    for place in pinned:
        values = tuple(int(place[index]) for index in free)
        if place.get(symbols.K, point.K) != point.K or max(values) > point.K or values in present:
            continue
        assignment = dict(zip(free, values))
        base = envs[0][1]
        out.append((("pinned", values), (assignment, replace(base, scalars={**base.scalars, **assignment}))))
        present.add(values)
    return out


def compare(answer: sp.Basic, target: CheckTarget, *, deadline: float | None = None,
            sample: int | None = None, seed: int = CHECK_SEED) -> Comparison:
    """Evaluate both at every point and index assignment; the first disagreement is returned.
    `deadline` is a `time.thread_time()` value (CPU time: load does not change the verdict)."""
    free = enumerated_indices(answer, target)
    tolerance = DERIVATIVE_TOLERANCE if answer.has(sp.Derivative) or target.result.has(sp.Derivative) \
        else RELATIVE_TOLERANCE
    checked = 0
    with mpmath.workdps(PRECISION_DIGITS):
        got_fn, expected_fn = evaluator(answer, target), None
        known = _target_values((target, free, sample, seed, mpmath.mp.dps))
        chosen = points(simplex=target.simplex, semantics=target.semantics, seed=seed)
        pinned = _pinned_places(answer, free)
        for at_point, point in enumerate(chosen if sample is None else sample_points(chosen)):
            envs = environments(point, free, target.arrays, target.semantics, seed=seed)
            for at_env, (assignment, env) in _with_pinned(point, envs, free, pinned):
                if deadline is not None and time.thread_time() > deadline:
                    raise CheckTimeout("the check ran out of time")
                if checked == 0:
                    _refuse_unknown_sizes(answer, env)
                expected = known.get((at_point, at_env))
                if expected is None:
                    expected_fn = expected_fn or evaluator(target.result, target)
                    expected = known[at_point, at_env] = safe(expected_fn, env, assignment)
                got = safe(got_fn, env, assignment)
                checked += 1
                if not close(expected, got, tolerance):
                    return Comparison(False, _counterexample(point, assignment, expected, got, target, env),
                                      checked)
    return Comparison(True, None, checked)


class UnknownSize(NotAnInput):
    """The answer uses a size (N, D) the question does not have; `sizes` names them for the message."""

    def __init__(self, sizes: list[str]):
        super().__init__(f"the answer uses {', '.join(sizes)}, a size this question does not have "
                         "(N: the batch size, D: the number of input features)")
        self.sizes = sizes


def _refuse_unknown_sizes(answer: sp.Basic, env) -> None:
    """NotAnInput for a size the question has none of (N, the batch size, or D, the number of input
    features, in an answer to cross-entropy-gradient): every value would be missing, so the answer
    cannot be judged at all. Without this each point would be nan, and a right answer "incorrect"."""
    if not answer.has(symbols.D, symbols.N):  # a walk that stops early, where free_symbols builds every set
        return
    unknown = sorted(str(size) for size in answer.free_symbols & {symbols.D, symbols.N} if size not in env.scalars)
    if unknown:
        raise UnknownSize(unknown)


# The target's values at the points, by (target, indices, sample, seed, digits): the same for every
# answer of a class (one seed), so each is computed once per process. Bounded: the oldest key goes.
_TARGET_VALUES: collections.OrderedDict = collections.OrderedDict()
TARGET_VALUE_KEYS = 32


def _target_values(key: tuple) -> dict:
    """{(point number, assignment number): value} for `key`, filled as compare reaches them."""
    if key in _TARGET_VALUES:
        _TARGET_VALUES.move_to_end(key)
    else:
        _TARGET_VALUES[key] = {}
        if len(_TARGET_VALUES) > TARGET_VALUE_KEYS:
            _TARGET_VALUES.popitem(last=False)
    return _TARGET_VALUES[key]


def _counterexample(point: Point, assignment: dict, expected, got, target: CheckTarget, env) -> Counterexample:
    uses_y = "y" in target.arrays
    batched = target.semantics is not None and "Z" in target.semantics.derived
    return Counterexample(
        K=point.K, indices=tuple((str(s), v) for s, v in assignment.items()),
        # Batched targets have per-example logits Z = X W^T + b (listed in inputs), no single z.
        z=() if batched else tuple(round(float(v), 6) for v in point.z),
        y=tuple(round(float(v), 6) for v in point.y) if uses_y else None,
        expected=_number(expected), got=_number(got), sigma_text=point.sigma_text,
        inputs=shown(env) if target.semantics is not None else ())


def _number(value) -> float:
    value = float(value) if mpmath.isfinite(value) else float("nan")
    return float(f"{value:.12g}") if value == value else value
