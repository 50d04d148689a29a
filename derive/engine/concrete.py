"""Concrete-K derivatives in O(1) SymPy work per entry: the softmax denominator as an intermediate.

Differentiating the written-out softmax entry by entry costs O(K) per entry (every entry holds the
K-term sum), so K^3 overall: 386 s at K = 128 in plain SymPy. Here each function is written in
S = e^{z_1} + ... + e^{z_K} and differentiated by the chain rule,
    d f(z, S)/d z_c = df/dz_c + df/dS * dS/dz_c,
with every derivative taken by SymPy. dS/dz_c differentiates only the terms of S that contain z_c
(linearity; the others are free of z_c). Row and column factors are computed once, so an entry is
one product and one sum; and each derivative is taken once per shape (index_templates), since
e^{z_r} / S has the same derivative for every r, renamed.
"""
from __future__ import annotations

import functools
from functools import cmp_to_key

import sympy as sp

from ..symbols import sigma, z
from ..algebra.index_templates import PerTemplate, differentiate

S = sp.Symbol("S", positive=True)  # stands for the denominator e^{z_1} + ... + e^{z_K}
# A batch has one softmax per example: S_n stands for e^{Z_n1} + ... + e^{Z_nK} (verify.concrete RowsProver).
ROW_DENOMINATOR = sp.IndexedBase("S", positive=True)


def denominator(n: int, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """e^{z_1} + ... + e^{z_n}; with a scale (1/T) e^{z_1/T} + ... + e^{z_n/T}."""
    return sp.Add(*[sp.exp(scale * z[r]) for r in range(1, n + 1)])


def partials_by_linearity(f: sp.Expr) -> dict:
    """{c: df/dz_c} for the logits f contains, differentiating only the terms of f that contain z_c:
    by linearity the other terms contribute 0, and SymPy's diff of the whole K-term sum would
    walk all K terms for every c (K^2 work)."""
    by_logit: dict = {}
    for term in sp.Add.make_args(f):
        for logit in term.atoms(sp.Indexed):
            if logit.base == z:
                by_logit.setdefault(logit, []).append(term)
    return {int(logit.indices[0]): sp.Add(*[differentiate(t, logit) for t in terms])
            for logit, terms in by_logit.items()}


def derivative_by_terms(f: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """df/dx term by term (linearity), each term's derivative taken once per shape: the K terms
    y_r log S of a loss share one derivative, where diff of the whole sum asks SymPy's assumptions
    about every term again."""
    return sp.Add(*[differentiate(t, x) for t in sp.Add.make_args(f) if t.has(x)])


def denominator_gradient(n: int, scale: sp.Expr = sp.Integer(1)) -> list:
    """dS/dz_c for c = 1..n (S = e^{z_1} + ... + e^{z_n}, or with z / T)."""
    partials = partials_by_linearity(denominator(n, scale))
    return [partials.get(c, sp.Integer(0)) for c in range(1, n + 1)]


def softmax_over_S(n: int, scale: sp.Expr = sp.Integer(1)) -> list:
    return [sp.exp(scale * z[r]) / S for r in range(1, n + 1)]


class TotalDerivative:
    """The factors of d f_r / d z_c for a list of functions f_r(z, S), each computed once."""

    def __init__(self, functions: list, n: int, *, dS=None, outer=None, direct=None, scale=sp.Integer(1)):
        self.n = n
        self.functions = functions
        self.dS = dS if dS is not None else denominator_gradient(n, scale)             # column factors
        self.outer = outer if outer is not None else [derivative_by_terms(f, S) for f in functions]  # df_r/dS
        self.direct = direct if direct is not None else [self._direct(f) for f in functions]  # df_r/dz_c

    @staticmethod
    def _direct(f) -> dict:
        return partials_by_linearity(f)

    def rewritten(self, rewrite) -> "TotalDerivative":
        """The same factors, each rewritten once (O(K) rewrites instead of O(K^2)); the rewrite
        runs once per shape of factor, so it must treat every index alike (index_templates)."""
        rewrite = PerTemplate(rewrite)
        return TotalDerivative(self.functions, self.n, dS=[rewrite(e) for e in self.dS],
                               outer=[rewrite(e) for e in self.outer],
                               direct=[{c: rewrite(e) for c, e in d.items()} for d in self.direct])

    def with_outer(self, rewrite) -> "TotalDerivative":
        """The same factors with df_r/dS rewritten (one factor per function, so no templates:
        the rewrite may name particular indices, such as the targets' sum)."""
        return TotalDerivative(self.functions, self.n, dS=self.dS, outer=[rewrite(o) for o in self.outer],
                               direct=self.direct)

    def entry(self, r: int, c: int) -> sp.Expr:
        """0-based (r, c): df_r/dz_c + df_r/dS * dS/dz_c."""
        product = self.outer[r] * self.dS[c]
        direct = self.direct[r].get(c + 1)
        return product if direct is None else direct + product

    def matrix(self) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix([[self.entry(r, c) for c in range(self.n)] for r in range(len(self.functions))])

    def gradient(self) -> sp.ImmutableMatrix:
        """For a single scalar function: the column of d f / d z_c."""
        return sp.ImmutableMatrix([[self.entry(0, c)] for c in range(self.n)])


def _exp_to_softmax(power: sp.exp, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """e^{m z_r} -> (sigma_r S)^m: SymPy merges e^{z_r} e^{z_r} into e^{2 z_r}, so match the multiple
    (of z_r / T with a scale 1/T)."""
    exponent = power.args[0] if scale == 1 else sp.expand(power.args[0] / scale)
    coefficient, logit = exponent.as_coeff_Mul()
    if isinstance(logit, sp.Indexed) and logit.base == z and coefficient.is_Integer:
        return (sigma[logit.indices[0]] * S) ** coefficient
    return power


def softmax_substitution(n: int, scale: sp.Expr = sp.Integer(1)):
    """A rewrite e^{z_r} -> sigma_r S (e^{z_r / T} with a scale 1/T; every multiple m z_r too);
    SymPy cancels the powers of S."""
    def rewrite(expr):
        return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: _exp_to_softmax(e, scale)) \
            if expr.has(sp.exp) else expr
    return rewrite


class StructuredMatrix(sp.MatrixExpr):
    """A K x K matrix: listed diagonal, off-diagonal entries left_r * right_c; entries made on demand.

    A SymPy matrix expression, so it prints, indexes and `as_explicit()`s like any other; building
    all K^2 entries (16,384 SymPy products at K = 128) happens only when someone needs them."""

    def __new__(cls, diagonal, left, right):
        return sp.Basic.__new__(cls, sp.Tuple(*diagonal), sp.Tuple(*left), sp.Tuple(*right))

    @property
    def shape(self):
        n = len(self.args[0])
        return (sp.Integer(n), sp.Integer(n))

    def _entry(self, i, j, **kwargs):
        if not (getattr(i, "is_Integer", False) or isinstance(i, int)) or not (
                getattr(j, "is_Integer", False) or isinstance(j, int)):
            raise IndexError("a structured matrix is indexed by integers")
        i, j = int(i), int(j)
        return self.args[0][i] if i == j else self.args[1][i] * self.args[2][j]

    def as_explicit(self):
        diagonal, left, right = self.args
        n = len(diagonal)
        product = _product_maker(left, right)
        return sp.ImmutableMatrix([[diagonal[r] if r == c else product(r, c) for c in range(n)] for r in range(n)])


def _scaled_atom(factor):
    """(coefficient, other factors, atom) when the factor is a number times factors free of indices
    times one indexed symbol (-sigma_r, -sigma_r / T), else None."""
    coefficient, rest = factor.as_coeff_Mul()
    if isinstance(rest, (sp.Indexed, sp.Symbol)):
        return coefficient, (), rest
    if isinstance(rest, sp.Mul):
        indexed = [f for f in rest.args if isinstance(f, sp.Indexed)]
        others = tuple(f for f in rest.args if not isinstance(f, sp.Indexed))
        if len(indexed) == 1 and not any(f.has(sp.Indexed) for f in others):
            return coefficient, others, indexed[0]
    return None


def _product_maker(left, right):
    """left[r] * right[c] for the K^2 - K off-diagonal entries.

    The usual entry, -sigma_r sigma_c (or -sigma_r sigma_c / T), is a number times two distinct
    symbols and the same other factors; SymPy's Mul would flatten, collect and sort each of them
    (0.3 s at K = 128). Here the symbols and factors are ranked once in SymPy's own canonical order
    (Basic.compare, what Mul sorts by), so each product is assembled already canonical
    (Mul._from_args, SymPy's constructor for processed arguments): the same object Mul builds
    (tests/test_concrete.py checks it). Anything else goes through Mul."""
    lefts, rights = [_scaled_atom(u) for u in left], [_scaled_atom(v) for v in right]
    if any(x is None for x in lefts) or any(v is None or v[0] != 1 for v in rights) \
            or len({others for _, others, _ in lefts}) != 1 or len({others for _, others, _ in rights}) != 1:
        return lambda r, c: left[r] * right[c]
    others = lefts[0][1] + rights[0][1]
    if len({f.as_base_exp()[0] for f in others}) != len(others):
        return lambda r, c: left[r] * right[c]  # 1/T times 1/T: a power SymPy must combine
    atoms = {a for _, _, a in lefts} | {a for _, _, a in rights}
    ordered = sorted(atoms | set(others), key=cmp_to_key(sp.Basic.compare))
    rank = {a: position for position, a in enumerate(ordered)}
    # Integers from here on: comparing SymPy objects was most of the cost.
    left_rank, right_rank = [rank[a] for _, _, a in lefts], [rank[a] for _, _, a in rights]
    other_ranks = [rank[f] for f in others]
    coefficients = [() if coefficient == 1 else (coefficient,) for coefficient, _, _ in lefts]
    zero = [coefficient == 0 for coefficient, _, _ in lefts]

    def product(r, c):
        a, b = left_rank[r], right_rank[c]
        if a == b or zero[r]:
            return left[r] * right[c]
        factors = sorted((a, b, *other_ranks))
        return sp.Mul._from_args((*coefficients[r], *(ordered[x] for x in factors)), True)  # SymPy's own way in
    return product


class Structured:
    """The factors of a diagonal + rank-one matrix, and that matrix (a StructuredMatrix).

    Every concrete Jacobian here has this shape, so equality of two such matrices is provable
    for every entry with O(K) small proofs instead of K^2 (`structured_equal`)."""

    def __init__(self, diagonal, left, right):
        self.diagonal, self.left, self.right = tuple(diagonal), tuple(left), tuple(right)
        self.matrix = StructuredMatrix(self.diagonal, self.left, self.right)

    @classmethod
    def from_total_derivative(cls, td: "TotalDerivative", *, evaluate: bool = True) -> "Structured":
        """Rows f_r that depend on z_r and S only: d f_r/d z_c = [r = c] direct_r + outer_r dS_c.

        evaluate=False leaves each diagonal entry as the unevaluated sum: the same value, for a
        certificate nobody reads but the prover, which templates it (and so simplifies it once per
        shape rather than once per entry)."""
        if any(set(d) - {r + 1} for r, d in enumerate(td.direct)):
            raise ValueError("a row depends on another logit directly: not diagonal + rank one")
        if evaluate:
            combine = PerTemplate(lambda direct, outer, dS: direct + outer * dS)  # once per shape
        else:
            def combine(direct, outer, dS):
                return sp.Add(direct, sp.Mul(outer, dS, evaluate=False), evaluate=False)
        return cls([combine(td.direct[r].get(r + 1, sp.Integer(0)), td.outer[r], td.dS[r]) for r in range(td.n)],
                   td.outer, td.dS)

    def rewritten(self, rewrite) -> "Structured":
        """Apply a rewrite to every factor: once per shape of factor (index_templates), so the
        rewrite must treat every index alike, as substitutions and factoring do."""
        rewrite = PerTemplate(rewrite)
        return Structured([rewrite(d) for d in self.diagonal], [rewrite(u) for u in self.left],
                          [rewrite(v) for v in self.right])

    def rescaled(self, factor: sp.Expr) -> "Structured":
        """(u_r * factor)(v_c / factor): the same products, with a common factor moved across
        (-sigma_r / S times sigma_c S becomes -sigma_r times sigma_c)."""
        return Structured(self.diagonal, [u * factor for u in self.left], [v / factor for v in self.right])

    def with_diagonal(self, rewrite) -> "Structured":
        rewrite = PerTemplate(rewrite)
        return Structured([rewrite(d) for d in self.diagonal], self.left, self.right)

    def diagonal_part(self) -> list:
        """d_r with the matrix written diag(d) + left right^T (the rank-one term reaches the diagonal
        too): each diagonal entry minus left_r right_r, expanded once per shape."""
        subtract = PerTemplate(lambda entry, u, v: sp.expand(entry - u * v))
        return [subtract(d, u, v) for d, u, v in zip(self.diagonal, self.left, self.right)]

    def row_sums(self, total: sp.Expr | None = None) -> list:
        """Entry r of M 1, d_r + left_r (right_1 + ... + right_K): O(K) in all, the sum of the
        column factors one shared subtree (never copied into each of the K entries); `total`, a
        value of that sum, stands in its place (1 for sigma_1 + ... + sigma_K)."""
        total = _sum_of(self.right) if total is None else total
        return [sp.Add(d, sp.Mul(u, total, evaluate=total == 1)) for d, u in zip(self.diagonal_part(), self.left)]

    def quadratic_form(self, direction: list) -> sp.Expr:
        """v^T M v = sum_r d_r v_r^2 + (sum_r v_r left_r)(sum_c right_c v_c): O(K), not K^2 products."""
        diagonal = sp.Add(*[d * x ** 2 for d, x in zip(self.diagonal_part(), direction)])
        left, right = sp.Add(*[x * u for x, u in zip(direction, self.left)]), sp.Add(*[w * x for w, x in zip(self.right, direction)])
        if left.could_extract_minus_sign():  # -(sigma^T v)(sigma^T v) is -(sigma^T v)^2: one sum, squared
            return diagonal - (-left) * right
        return diagonal + left * right

    @classmethod
    def from_matrix_form(cls, form, n: int) -> "Structured":
        """diag(sigma) - sigma sigma^T, I - 1 sigma^T, ...: SymPy's generic entries, instantiated."""
        from ..symbols import i, j
        from .common import matrix_entries_to_indexed
        generic_diagonal = matrix_entries_to_indexed(form[i, i], shift=0)
        off = sp.expand(matrix_entries_to_indexed(form[i, j], shift=0).xreplace({sp.KroneckerDelta(i, j): 0}))
        left = sp.Mul(*[f for f in sp.Mul.make_args(off) if j not in f.free_symbols])
        right = sp.Mul(*[f for f in sp.Mul.make_args(off) if j in f.free_symbols])
        if i in right.free_symbols:
            raise ValueError(f"off-diagonal entry {off} is not a product of a row and a column factor")
        diagonal = [generic_diagonal.xreplace({i: r}) for r in range(1, n + 1)]
        return cls(diagonal, [left.xreplace({i: r}) for r in range(1, n + 1)],
                   [right.xreplace({j: c}) for c in range(1, n + 1)])


@functools.lru_cache(maxsize=8)
def _sum_of(terms: tuple) -> sp.Expr:
    """One object for one sum: the prover's memos then find the sum of a builder's row sums by identity
    (a dict checks `is` first) instead of comparing its K terms again in each of the K entries."""
    return sp.Add(*terms)


def denominator_step(n: int, scale: sp.Expr = sp.Integer(1), facts: tuple = ("denominator-S",)):
    """S = e^{z_1} + ... + e^{z_K}: the shared denominator gets a name, as textbooks do."""
    from ..model import Rule, Step
    return Step(lhs=S, rhs=denominator(n, scale), rule=Rule.ABBREVIATE, note="write S for the denominator",
                facts=facts)


def definitions(n: int, scale: sp.Expr = sp.Integer(1)) -> tuple:
    return ((S, denominator(n, scale)),)
