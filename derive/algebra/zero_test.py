"""An exact, fast test that an expression is identically zero as a rational function.

Why: SymPy's `cancel(together(expand(...)))` on softmax expressions spends its time rebuilding
expression trees (gcd_terms, as_numer_denom), and grows steeply with K. Here the expression is
mapped once into SymPy's sparse polynomial rings: exp(c_1 t_1 + c_2 t_2 + ...) with integer c_r
becomes E_1^c_1 E_2^c_2 ... (so exp(2 z_1) exp(-z_1) = exp(z_1) is seen), every other leaf that is
not a rational number (y_3, log S, a Kronecker delta, a Sum, ...) becomes an independent generator,
and the expression becomes numerator / denominator with no gcd taken. It is zero exactly when the
numerator is the zero polynomial.

Soundness: treating leaves as independent variables only forgets relations between them, so a zero
numerator proves the expression zero wherever it is defined; a non-zero one proves nothing (the
caller then tries SymPy's own simplification). Floats and other inexact numbers are refused.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.core.evalf import PrecisionExhausted
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyRing

# A bound on the work: products of denominators grow; past this many terms we give up (None).
MAX_TERMS = 200_000


class _Unsupported(Exception):
    """A node the ring cannot represent exactly (a Float, a huge power): leave it to SymPy."""


def is_zero(difference: sp.Expr) -> bool:
    """Proved identically zero: by the ring test, else by SymPy's expand / together / cancel."""
    if vanishes(difference):
        return True
    expanded = sp.expand(difference)
    return expanded == 0 or sp.cancel(sp.together(expanded)) == 0


def vanishes(expr: sp.Expr) -> bool:
    """True when `expr` is identically zero as a rational function of its leaves (see module doc)."""
    if expr == 0:
        return True
    converted = _numerator(expr)
    return converted is not None and not converted[1]


def nonzero(expr: sp.Expr, independent: Callable[[tuple], bool]) -> bool:
    """True when `expr` is proved NOT identically zero: its numerator is a non-zero polynomial in
    generators that are algebraically independent, as `independent(generators)` says of the pairs
    (kind, node), kind "exp" (node the term t of e^{c t}) or "leaf". A non-zero polynomial in
    independent variables vanishes on no open set, so the expression differs from zero somewhere it
    is defined. False: not proved either way (generators that may depend on each other, sigma_1
    beside e^{z_1}, prove nothing).

    Constant generators (sqrt(1 + 10^{-120}), log 2, e^{1/2}: no free symbol) are not variables but
    numbers: the numerator is read as a polynomial in the other generators whose coefficients are
    polynomials in the constants, and it is non-zero when one coefficient is, which SymPy's evalf
    decides with guaranteed accuracy (strict) or cannot tell (then nothing is proved)."""
    if expr.is_Rational:
        return expr != 0
    converted = _numerator(expr)
    if converted is None:
        return False
    generators, numerator = converted
    constant = [_is_constant(generator) for generator in generators]
    if not independent(tuple(g for g, fixed in zip(generators, constant) if not fixed)) or not numerator:
        return False
    if not any(constant):
        return True
    values = [sp.exp(node) if kind == "exp" else node for kind, node in generators]
    coefficients: dict = {}
    for monomial, coefficient in numerator.terms():
        variables = tuple(power for power, fixed in zip(monomial, constant) if not fixed)
        term = sp.Mul(sp.Rational(int(coefficient.numerator), int(coefficient.denominator)), *(
            value ** power for value, power, fixed in zip(values, monomial, constant) if fixed and power))
        coefficients[variables] = coefficients.get(variables, sp.Integer(0)) + term
    return any(_certainly_nonzero(coefficient) for coefficient in coefficients.values())


def _is_constant(generator: tuple) -> bool:
    _kind, node = generator
    return not node.free_symbols


# The working precision evalf may climb to when it tells a constant from zero: 10^{-3000} is still told.
CONSTANT_DIGITS = 4000


def _certainly_nonzero(constant: sp.Expr) -> bool:
    """A constant proved non-zero: evalf with strict accuracy, which raises rather than guess when the
    value cancels below what CONSTANT_DIGITS can tell (log 6 - log 2 - log 3)."""
    if constant.is_Rational:
        return constant != 0
    try:
        value = constant.evalf(15, strict=True, maxn=CONSTANT_DIGITS)
    except (PrecisionExhausted, ValueError, TypeError, ZeroDivisionError):
        return False
    return value.is_Number and value != 0


def _numerator(expr: sp.Expr) -> tuple | None:
    """(the generators in order, the numerator as a polynomial in them), or None: not representable."""
    try:
        generators = _Generators()
        generators.collect(expr)
        if not generators.index:
            return None  # a non-zero number, or nothing this test can say
        ring = PolyRing([sp.Dummy() for _ in generators.index], QQ)
        numerator, _denominator = _Converter(ring, generators.index).convert(expr)
    except (_Unsupported, RecursionError):
        return None
    return tuple(generators.index), numerator


class _Generators:
    """First pass: the generators, in a fixed order (exp terms and opaque leaves)."""

    def __init__(self):
        self.index: dict = {}

    def add(self, key) -> None:
        self.index.setdefault(key, len(self.index))

    def collect(self, node) -> None:
        if node.is_Rational:
            return
        if node.is_Number:
            raise _Unsupported(node)
        if node.is_Add or node.is_Mul:
            for arg in node.args:
                self.collect(arg)
        elif node.is_Pow and _small_integer(node.exp):
            self.collect(node.base)
        elif isinstance(node, sp.exp):
            for term, _coeff in _exp_terms(node.args[0]):
                self.add(("exp", term))
        else:
            self.add(("leaf", node))


class _Converter:
    """Second pass: expression -> (numerator, denominator), the denominator kept factored as
    {polynomial: power} so that a sum over S and S^2 is put over S^2, not S^3 (no gcd is taken)."""

    def __init__(self, ring: PolyRing, index: dict):
        self.ring, self.index, self.gens = ring, index, ring.gens

    def convert(self, node):
        if node.is_Rational:
            return self.ring(QQ(int(node.p), int(node.q))), {}
        if node.is_Add:
            return self._add([self.convert(arg) for arg in node.args])
        if node.is_Mul:
            numerator, denominator = self.ring.one, {}
            for arg in node.args:
                n, d = self.convert(arg)
                numerator = numerator * n
                _bound(numerator)
                denominator = _times(denominator, d)
            return numerator, denominator
        if node.is_Pow and _small_integer(node.exp):
            n, d = self.convert(node.base)
            power = int(node.exp)
            if power >= 0:
                result = n ** power
                _bound(result)
                return result, {key: p * power for key, p in d.items()}
            if not n:
                raise _Unsupported(node)  # 1/0: not the value of a rational function
            numerator = self.ring.one
            for key, p in d.items():
                numerator *= key ** (p * -power)
            _bound(numerator)
            return numerator, {n: -power}
        if isinstance(node, sp.exp):
            numerator, denominator = self.ring.one, {}
            for term, coeff in _exp_terms(node.args[0]):
                generator = self.gens[self.index[("exp", term)]]
                if coeff >= 0:
                    numerator *= generator ** coeff
                else:
                    denominator = _times(denominator, {generator: -coeff})
            return numerator, denominator
        return self.gens[self.index[("leaf", node)]], {}

    def _add(self, parts):
        common: dict = {}
        for _n, d in parts:
            for key, p in d.items():
                common[key] = max(common.get(key, 0), p)
        total = self.ring.zero
        for n, d in parts:
            for key, p in common.items():
                missing = p - d.get(key, 0)
                if missing:
                    n = n * key ** missing
            total += n
            _bound(total)
        return total, common


def _times(a: dict, b: dict) -> dict:
    if not b:
        return a
    merged = dict(a)
    for key, p in b.items():
        merged[key] = merged.get(key, 0) + p
    return merged


def _exp_terms(argument):
    """exp's argument as integer multiples of terms: 2 z_1 - z_2 + W x -> ((z_1, 2), (z_2, -1), (W x, 1)).

    A constant c is c times the term 1 (exp(1) = e); a term with a fractional coefficient is a term
    of its own (exp(z/2) is generator exp(z/2), not sqrt(exp(z)))."""
    terms = []
    for term in sp.Add.make_args(argument):
        coeff, rest = term.as_coeff_Mul()
        if coeff.is_Integer and abs(int(coeff)) <= 64:
            terms.append((rest, int(coeff)))
        elif coeff.is_Rational:
            terms.append((term, 1))
        else:
            raise _Unsupported(argument)  # a Float coefficient
    return terms


def _small_integer(exponent) -> bool:
    return exponent.is_Integer and abs(int(exponent)) <= 64


def _bound(poly) -> None:
    if len(poly) > MAX_TERMS:
        raise _Unsupported("too large")
