"""Named rewrite rules shared by the derivations: each takes an expression and returns SymPy's rewrite.

A rule never states its answer; it asks SymPy to differentiate, sum, substitute or factor, and
handles SymPy's traps (Piecewise from delta sums, captured dummies) explicitly.
"""
from __future__ import annotations

import sympy as sp

from ..symbols import K, sigma, z
from .indices import rename_sum_indices

_CANONICAL_DUMMIES = [sp.Symbol(name, integer=True, positive=True) for name in ("k", "m", "n", "l")]


def rename_dummies(expr: sp.Basic, *, avoid: set) -> sp.Basic:
    """Rename summation dummies that collide with `avoid`, so no free index is captured (sympy#21891)."""
    def away(summation: sp.Sum) -> dict:
        taken = set(avoid) | summation.free_symbols
        mapping = {}
        for var, _lo, _hi in summation.limits:
            if var in avoid:
                fresh = next(d for d in _CANONICAL_DUMMIES if d not in taken and d != var)
                taken.add(fresh)
                mapping[var] = fresh
        return mapping
    return rename_sum_indices(expr, away)


def quotient_rule(derivative: sp.Derivative) -> sp.Expr:
    """d(u/v)/dx -> (du/dx * v - u * dv/dx) / v^2, derivatives left unevaluated for display."""
    (x, _order), = derivative.variable_count
    numerator, denominator = sp.fraction(sp.together(derivative.expr))
    du = sp.Derivative(numerator, x, evaluate=False)
    dv = sp.Derivative(denominator, x, evaluate=False)
    return (du * denominator - numerator * dv) / denominator**2


def evaluate_derivatives(expr: sp.Basic) -> sp.Basic:
    """Let SymPy differentiate every unevaluated Derivative, renaming dummies first."""
    def differentiate(derivative: sp.Derivative) -> sp.Expr:
        variables = set().union(*(v.free_symbols for v in derivative.variables))
        safe = rename_dummies(derivative.expr, avoid=variables)
        return sp.diff(safe, *derivative.variables)
    return expr.replace(lambda e: isinstance(e, sp.Derivative), differentiate)


def index_range_facts(*indices: sp.Symbol) -> dict:
    """The relations 1 <= idx <= K that a statement `1 <= i, j <= K` makes true."""
    return ranged_facts(dict.fromkeys(indices, K))


def ranged_facts(ranges: dict) -> dict:
    """The relations 1 <= idx <= size that the stated ranges {idx: size} make true."""
    facts = {}
    for idx, size in ranges.items():
        for relation in (sp.Ge(size, idx), sp.Le(idx, size), sp.Ge(idx, 1), sp.Le(1, idx)):
            facts[relation] = sp.true
    return facts


def resolve_piecewise(expr: sp.Basic, facts: dict) -> sp.Basic:
    """Pick the Piecewise branch whose condition the stated index ranges make true, every earlier
    branch being known false; when one cannot be decided, ValueError (no guess: a fall-through
    (0, True) after an undecided d <= D would make a derivative 0)."""
    def choose(piecewise: sp.Piecewise) -> sp.Expr:
        for value, condition in piecewise.args:
            decided = condition.xreplace(facts)
            if decided == sp.true:
                return value
            if decided != sp.false:  # a later branch applies only when this one is known not to
                break
        raise ValueError(f"no branch of {piecewise} follows from the stated index ranges")
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), choose)


def collapse_delta_sums(expr: sp.Basic, *, indices: tuple = (), ranges: dict | None = None) -> sp.Basic:
    """Sum_k delta_{jk} f(k) -> f(j): SymPy's doit gives Piecewise((f(j), K >= j), (0, True));
    the stated range 1 <= j <= K selects the first branch (sympy#13993). `indices` run to K;
    `ranges` ({i: K, d: D}) gives each index its own size instead."""
    def collapse(summation: sp.Sum) -> sp.Expr:
        return summation.doit() if summation.has(sp.KroneckerDelta) else summation
    collapsed = sp.expand(expr).replace(lambda e: isinstance(e, sp.Sum), collapse)
    return resolve_piecewise(collapsed, ranged_facts(dict.fromkeys(indices, K) if ranges is None else ranges))


def collapse_delta_sums_quickly(expr: sp.Basic, *, ranges: dict) -> sp.Basic:
    """collapse_delta_sums for checking (sum_out_deltas first, SymPy's doit for the rest), the
    Piecewise branches picked by the stated ranges: the same values, not the displayed form."""
    facts = ranged_facts(ranges)
    collapsed = sum_out_deltas(expr, facts, otherwise=lambda summation: sp.expand(summation).doit())
    return resolve_piecewise(collapsed, facts) if collapsed.has(sp.Piecewise) else collapsed


def sum_out_deltas(expr: sp.Basic, facts: dict, *, otherwise=lambda summation: summation) -> sp.Basic:
    """Sum_k delta_{kx} f(k) -> f(x), term by term, where the facts (ranged_facts) put x inside the
    limits or x is summed over the same limits in the same Sum; the other terms stay sums.

    Why not SymPy's doit: on a sum that mixes delta terms with others it tries hypergeometric and
    telescoping summation, `solve` included, on every other term (most of the symbolic proofs'
    time). A Sum with a delta this does not recognise goes to `otherwise`. Only the sums are
    expanded, not the whole expression (at a concrete size there is often no sum left)."""
    def collapse(summation: sp.Sum) -> sp.Expr:
        if not summation.has(sp.KroneckerDelta):
            return summation
        quick = _sum_out_deltas(summation, facts)
        return otherwise(summation) if quick is None else quick
    return expr.replace(lambda e: isinstance(e, sp.Sum), collapse) if expr.has(sp.Sum) else expr


def _sum_out_deltas(summation: sp.Sum, facts: dict) -> sp.Expr | None:
    """The Sum with every delta over one of its dummies summed out, term by term; None when a
    limit depends on another's dummy or a delta's partner is not known to lie inside the limits."""
    limits = list(summation.limits)
    dummies = {limit[0] for limit in limits}
    if any(bound.free_symbols & dummies for limit in limits for bound in limit[1:]):
        return None
    collapsed, rest = [], []
    for term in sp.Add.make_args(sp.expand(summation.function)):
        remaining = list(limits)
        while True:
            found = next(((limit, delta) for limit in remaining
                          for delta in [_delta_over(term, limit[0])] if delta is not None), None)
            if found is None:
                break
            (dummy, low, high), delta = found
            partner = delta.args[1] if delta.args[0] == dummy else delta.args[0]
            bound = [limit for limit in remaining if limit[0] == partner]
            if bound:  # summed here too: inside exactly when it runs over the same range
                inside = bound[0][1:] == (low, high)
            else:
                inside = (sp.Le(low, partner).xreplace(facts) == sp.true
                          and sp.Le(partner, high).xreplace(facts) == sp.true)
            if not inside:
                return None
            factors = list(sp.Mul.make_args(term))
            factors.remove(delta)
            term = sp.Mul(*factors).subs(dummy, partner)  # subs, not xreplace: inner sums may reuse the name
            remaining.remove((dummy, low, high))
        if len(remaining) == len(limits):
            rest.append(term)  # no delta over these limits: summed together, as written
        else:
            collapsed.append(sp.Sum(term, *remaining) if remaining else term)
    if not collapsed:
        return None
    return sp.Add(*collapsed, sp.Sum(sp.Add(*rest), *limits) if rest else sp.Integer(0))


def _delta_over(term: sp.Expr, dummy: sp.Symbol):
    """A factor delta_{dummy, x} (x free of the dummy) of the term, or None."""
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.KroneckerDelta) and len(factor.args) == 2 and dummy in factor.args:
            partner = factor.args[1] if factor.args[0] == dummy else factor.args[0]
            if dummy not in partner.free_symbols:
                return factor
    return None


def substitute_softmax(expr: sp.Expr, *, indices: tuple, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """e^{scale z_x} / Sum_k e^{scale z_k} -> sigma_x for each free index x (softmax at temperature
    1/scale; scale 1: the plain softmax), letting SymPy cancel the sums."""
    dummy = _CANONICAL_DUMMIES[0]
    denominator = sp.Sum(sp.exp(scale * z[dummy]), (dummy, 1, K))
    expanded = sp.expand(rename_dummies(expr, avoid=set(indices)))
    replaced = expanded.subs({sp.exp(scale * z[x]): sigma[x] * denominator for x in indices})
    return sp.expand(sp.cancel(replaced)) if replaced.has(sp.Sum) else sp.expand(replaced)


def pull_constants_out_of_sums(expr: sp.Expr) -> sp.Expr:
    """Sum_k c f(k) -> c Sum_k f(k) for factors c free of the dummy, as SymPy's factor_terms does."""
    return sp.expand(expr).replace(lambda e: isinstance(e, sp.Sum), lambda s: sp.factor_terms(s))


def explicit_denominators_to_softmax(expr: sp.Expr, n: int, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """For concrete K: e^{scale z_r} -> sigma_r * (e^{scale z_1} + ... + e^{scale z_n}) and cancel,
    entry by entry (scale 1: the plain softmax)."""
    total = sp.Symbol("S_total", positive=True)
    exps = [sp.exp(scale * z[r]) for r in range(1, n + 1)]
    with_total = expr.subs(sp.Add(*exps), total)
    with_sigma = with_total.subs({exps[r - 1]: sigma[r] * total for r in range(1, n + 1)})
    return sp.expand(sp.cancel(with_sigma))


def positive_leading_factor(expr: sp.Expr) -> sp.Expr:
    """-(s - 1) s -> s (1 - s): factor() leaves the minus outside; people write it inside."""
    if isinstance(expr, sp.Mul) and expr.could_extract_minus_sign():
        adds = [f for f in expr.args if isinstance(f, sp.Add)]
        if len(adds) == 1:
            rest = sp.Mul(*[f for f in expr.args if f is not adds[0]])
            return sp.Mul(-rest, -adds[0])
    return expr


def factor_entry(expr: sp.Expr) -> sp.Expr:
    return positive_leading_factor(sp.factor(expr))


def factor_common(expr: sp.Expr) -> sp.Expr:
    """a c + b c -> c (a + b) for the factors every term shares, read off the expanded terms.

    Linear in the number of terms, where factor() builds a multivariate polynomial: a vector-Jacobian
    entry at K = 128 has 2K generators and factor() recursed without bound there."""
    terms = sp.Add.make_args(sp.expand(expr))
    if len(terms) < 2:
        return expr
    powers = [t.as_powers_dict() for t in terms]
    shared = {base: min(p.get(base, 0) for p in powers) for base in powers[0]
              if not base.is_Number and all(base in p for p in powers)}
    shared = {base: e for base, e in shared.items() if e.is_positive}
    if not shared:
        return expr
    common = sp.Mul(*[base ** e for base, e in shared.items()])
    return positive_leading_factor(common * sp.Add(*[t / common for t in terms]))


def chain_rule_through_probs(derivative: sp.Derivative) -> sp.Expr:
    """d/dz_x Sum_k f(sigma_k) -> Sum_k (df/dsigma_k) (d sigma_k / d z_x).

    SymPy differentiates f with respect to sigma_k (the outer derivative); the inner derivative
    stays unevaluated for the next step. Dummies are renamed first so k cannot be captured."""
    (variable, _order), = derivative.variable_count
    body = rename_dummies(derivative.expr, avoid=variable.free_symbols)
    def through(summation: sp.Sum) -> sp.Expr:
        (dummy, lo, hi), = summation.limits
        outer = sp.diff(summation.function, sigma[dummy])
        return sp.Sum(outer * sp.Derivative(sigma[dummy], variable, evaluate=False), (dummy, lo, hi))
    return sp.expand(body).replace(lambda e: isinstance(e, sp.Sum), through)


def substitute_derivative(expr: sp.Basic, known: sp.Derivative, value: sp.Expr, *,
                          pattern_indices: tuple) -> sp.Basic:
    """Replace every instance of a known derivative (e.g. d sigma_a / d z_b) by a derived result,
    matching the index pattern so that d sigma_k / d z_i gets sigma_k (delta_ki - sigma_i)."""
    a, b = pattern_indices
    wa, wb = sp.Wild("wa"), sp.Wild("wb")
    pattern = known.xreplace({a: wa, b: wb})
    def apply(match_expr):
        found = match_expr.match(pattern)
        return value.xreplace({a: found[wa], b: found[wb]})
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.match(pattern) is not None, apply)


def expand_sums(expr: sp.Expr) -> sp.Expr:
    """Linearity: split sums of sums and pull factors free of the dummy outside."""
    return pull_constants_out_of_sums(sp.expand(expr))


def substitute_sum(expr: sp.Expr, total: sp.Sum, value: sp.Expr) -> sp.Expr:
    """Replace a whole sum, such as Sum_k y_k, by a value an assumption gives it."""
    return expr.xreplace({total: value})


def collect_factor(expr: sp.Expr, factor: sp.Expr) -> sp.Expr:
    """a f + b f + c -> (a + b) f + c in one pass over the terms (sp.collect re-expands every term)."""
    terms = sp.Add.make_args(expr)
    coefficient = sp.Add(*[t / factor for t in terms if t.has(factor)])
    return coefficient * factor + sp.Add(*[t for t in terms if not t.has(factor)])


def same_dummy(expr: sp.Basic, dummy: sp.Symbol = _CANONICAL_DUMMIES[0]) -> sp.Basic:
    """Sum_l f(l) -> Sum_k f(k) where k is free in f: equal sums then look equal (and combine)."""
    def canonical(summation: sp.Sum) -> dict:
        if len(summation.limits) != 1:
            return {}
        (var, _lo, _hi), = summation.limits
        if var == dummy or dummy in summation.function.free_symbols:
            return {}
        return {var: dummy}
    return rename_sum_indices(expr, canonical)


def split_derivative(expr: sp.Basic) -> sp.Basic:
    """d(a + b)/dx -> da/dx + db/dx; terms SymPy sees as constant in x (targets) differentiate to 0."""
    def split(derivative: sp.Derivative) -> sp.Expr:
        body = sp.expand(derivative.expr)
        terms = body.args if isinstance(body, sp.Add) else (body,)
        out = []
        for term in terms:
            part = sp.Derivative(term, *derivative.variable_count, evaluate=False)
            out.append(part if term.has(sigma) else part.doit())
        return sp.Add(*out)
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(sp.expand(e.expr), sp.Add), split)


def evaluate_derivatives_of(expr: sp.Basic, *, keep: sp.Symbol) -> sp.Basic:
    """evaluate_derivatives, except those of `keep` (the loss L, whose meaning SymPy cannot see)."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and not e.expr.has(keep),
                        lambda e: evaluate_derivatives(e))
