"""Softmax numerics at working precision: max-shifted softmax and log-softmax, memoised exp, the default derived arrays.

Extreme logits (|z| ~ 1000) would overflow a naive float64 exp; mpmath's unbounded exponent range
plus the max shift keeps every value exact to the working precision.
"""
from __future__ import annotations

import mpmath
from mpmath.libmp import mpf_gt, mpf_sub, mpf_sum


def stable_softmax(logits: list) -> list:
    """Softmax with the maximum subtracted: softmax is shift-invariant, and it keeps exp() small."""
    top = max(logits)
    exps = [_exp(v, top) for v in logits]
    inverse = 1 / mpmath.fsum(exps)  # one division and K products (last-bit rounding at 50+ digits)
    return [e * inverse for e in exps]


# A numeric derivative by z_c recomputes the softmax at z_c +- h: K exponentials, of which K - 1 have
# the same argument at the same working precision as at the neighbouring evaluation (and as for every
# other entry's derivative at the same point). mpmath.exp is a pure function of its argument, the
# precision and the rounding, so it is memoised on exactly those: the values are bit for bit the ones
# computed anew.
_EXP_CACHE: dict = {}
_EXP_CACHE_SIZE = 1 << 14


def _exp(value, shift=None):
    """mpmath.exp(value - shift), or mpmath.exp(value) without a shift; memoised for mpf inputs."""
    if type(value) is not mpmath.mpf or not (shift is None or type(shift) is mpmath.mpf):
        return mpmath.exp(value if shift is None else value - shift)
    precision, rounding = mpmath.mp._prec_rounding  # what mpmath.exp itself rounds to
    key = (value._mpf_, None if shift is None else shift._mpf_, precision, rounding)
    result = _EXP_CACHE.get(key)
    if result is None:
        if len(_EXP_CACHE) >= _EXP_CACHE_SIZE:
            _EXP_CACHE.clear()
        result = _EXP_CACHE[key] = mpmath.exp(value if shift is None else value - shift)
    return result


def stable_log_softmax(logits: list) -> list:
    """log sigma_k = (z_k - max z) - log sum_j e^{z_j - max z}: one log for all K entries."""
    if not logits or any(type(v) is not mpmath.mpf for v in logits):
        top = max(logits)
        shift = top + mpmath.log(mpmath.fsum(_exp(v, top) for v in logits))  # log sum_j e^{z_j}, stably
        return [v - shift for v in logits]
    # The same numbers by the operations max, mpf's -, fsum and _exp call (libmp at the working
    # precision and rounding, the memo's own keys), without their dispatch: a batch's loss reads
    # N K of these at every evaluation.
    top = logits[0]
    for v in logits:
        if mpf_gt(v._mpf_, top._mpf_):  # what max's v > top calls: the first largest, as max gives
            top = v
    precision, rounding = mpmath.mp._prec_rounding
    top_key, make = top._mpf_, mpmath.mp.make_mpf
    exps = []
    for v in logits:
        value = _EXP_CACHE.get((v._mpf_, top_key, precision, rounding))
        exps.append((value if value is not None else _exp(v, top))._mpf_)
    shift = (top + mpmath.log(make(mpf_sum(exps, precision, rounding))))._mpf_
    return [make(mpf_sub(v._mpf_, shift, precision, rounding)) for v in logits]


def log_softmax_derived() -> dict:
    """The default arrays plus log sigma computed directly, for trees whose sigma is softmax(z)
    (a loss of K logs then costs one log, not K)."""
    return {**default_derived(), "log_sigma": lambda env: stable_log_softmax(env.array("z"))}


def default_derived() -> dict:
    """sigma is always the softmax of z, and S the softmax denominator, recomputed whenever z is
    perturbed (S is exact at |z| ~ 1000: mpmath's exponent range does not overflow)."""
    return {"sigma": lambda env: stable_softmax(env.array("z")),
            "S": lambda env: mpmath.fsum(_exp(v) for v in env.array("z"))}
