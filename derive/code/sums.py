"""A normal form for indexed sums, so that equal sums become equal leaves for the exact zero test.

Why: zero_test treats every Sum as an opaque generator, so sum_k e^{z_k - M} and sum_m e^{z_m}
would be different leaves. Here each sum's body is expanded and split term by term, factors free of
the dummy are pulled out (e^{-M} leaves the sum), Kronecker deltas with the dummy are summed away,
and dummies are renamed by nesting depth; then equal sums are equal trees.
"""
from __future__ import annotations

import sympy as sp

MAX_DEPTH = 6


def _dummy(depth: int) -> sp.Symbol:
    return sp.Symbol(f"_s{depth}", integer=True, positive=True)


def normal(expr: sp.Basic, depth: int = 0) -> sp.Basic:
    """Sums split into sums of single products, constants outside, deltas summed, dummies canonical."""
    if depth > MAX_DEPTH:
        raise RecursionError("sums nested too deeply")
    if isinstance(expr, sp.Sum):
        return _sum(expr, depth)
    if not expr.args or isinstance(expr, (sp.Indexed, sp.KroneckerDelta)):
        return expr
    rebuilt = expr.func(*(normal(arg, depth) for arg in expr.args))
    return _idempotent_deltas(sp.expand(rebuilt)) if isinstance(rebuilt, (sp.Add, sp.Mul, sp.Pow)) else rebuilt


def _idempotent_deltas(expr: sp.Basic) -> sp.Basic:
    """delta^n = delta: a Kronecker delta is 0 or 1 (an if-branch merge squares it)."""
    return expr.replace(lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.KroneckerDelta)
                        and e.exp.is_Integer and e.exp > 0, lambda e: e.base)


def _sum(expr: sp.Sum, depth: int) -> sp.Basic:
    body = expr.function
    for limit in expr.limits[:-1]:  # the first limit is the innermost
        body = sp.Sum(body, limit)
    dummy, lower, upper = expr.limits[-1]
    body = sp.expand(normal(body, depth + 1))
    total = sp.Integer(0)
    for term in sp.Add.make_args(body):
        total += _sum_term(term, dummy, lower, upper, depth)
    return _idempotent_deltas(sp.expand(total))


def _sum_term(term: sp.Expr, dummy, lower, upper, depth: int) -> sp.Expr:
    factors = sp.Mul.make_args(term)
    outside = sp.Mul(*(f for f in factors if not f.has(dummy)))
    inside = [f for f in factors if f.has(dummy)]
    if not inside:
        return outside * (upper - lower + 1)
    for position, factor in enumerate(inside):
        other = _delta_partner(factor, dummy)
        if other is not None:  # sum_k delta(k, a) f(k) = f(a): every index lies in range
            rest = sp.Mul(*(inside[:position] + inside[position + 1:]))
            return outside * normal(rest.xreplace({dummy: other}), depth)
    name = _dummy(depth)
    return outside * sp.Sum(sp.Mul(*inside).xreplace({dummy: name}), (name, lower, upper))


def _delta_partner(factor, dummy):
    if isinstance(factor, sp.Pow) and isinstance(factor.base, sp.KroneckerDelta) and factor.exp.is_positive:
        factor = factor.base
    if not isinstance(factor, sp.KroneckerDelta):
        return None
    a, b = factor.args
    if a == dummy and not b.has(dummy):
        return b
    if b == dummy and not a.has(dummy):
        return a
    return None
