"""Concrete-K derivatives in O(1) SymPy work per entry: the softmax denominator as an intermediate.

Differentiating the written-out softmax entry by entry costs O(K) per entry (every entry holds the
K-term sum), so K^3 overall: 386 s at K = 128 in plain SymPy. Here each function is written in
S = e^{z_1} + ... + e^{z_K} and differentiated by the chain rule,
    d f(z, S)/d z_c = df/dz_c + df/dS * dS/dz_c,
with every derivative taken by SymPy. dS/dz_c differentiates only the terms of S that contain z_c
(linearity; the others are free of z_c). Row and column factors are computed once, so an entry is
one product and one sum.
"""
from __future__ import annotations

import sympy as sp

from ..symbols import sigma, z

S = sp.Symbol("S", positive=True)  # stands for the denominator e^{z_1} + ... + e^{z_K}


def denominator(n: int) -> sp.Expr:
    return sp.Add(*[sp.exp(z[r]) for r in range(1, n + 1)])


def partials_by_linearity(f: sp.Expr) -> dict:
    """{c: df/dz_c} for the logits f contains, differentiating only the terms of f that contain z_c:
    by linearity the other terms contribute 0, and SymPy's diff of the whole K-term sum would
    walk all K terms for every c (K^2 work)."""
    by_logit: dict = {}
    for term in sp.Add.make_args(f):
        for logit in term.atoms(sp.Indexed):
            if logit.base == z:
                by_logit.setdefault(logit, []).append(term)
    return {int(logit.indices[0]): sp.Add(*[sp.diff(t, logit) for t in terms]) for logit, terms in by_logit.items()}


def denominator_gradient(n: int) -> list:
    """dS/dz_c for c = 1..n (S = e^{z_1} + ... + e^{z_n})."""
    partials = partials_by_linearity(denominator(n))
    return [partials.get(c, sp.Integer(0)) for c in range(1, n + 1)]


def softmax_over_S(n: int) -> list:
    return [sp.exp(z[r]) / S for r in range(1, n + 1)]


class TotalDerivative:
    """The factors of d f_r / d z_c for a list of functions f_r(z, S), each computed once."""

    def __init__(self, functions: list, n: int, *, dS=None, outer=None, direct=None):
        self.n = n
        self.functions = functions
        self.dS = dS if dS is not None else denominator_gradient(n)                    # column factors
        self.outer = outer if outer is not None else [sp.diff(f, S) for f in functions]  # df_r/dS
        self.direct = direct if direct is not None else [self._direct(f) for f in functions]  # df_r/dz_c

    @staticmethod
    def _direct(f) -> dict:
        return partials_by_linearity(f)

    def rewritten(self, rewrite) -> "TotalDerivative":
        """The same factors, each rewritten once (O(K) rewrites instead of O(K^2))."""
        return TotalDerivative(self.functions, self.n, dS=[rewrite(e) for e in self.dS],
                               outer=[rewrite(e) for e in self.outer],
                               direct=[{c: rewrite(e) for c, e in d.items()} for d in self.direct])

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


def _exp_to_softmax(power: sp.exp) -> sp.Expr:
    """e^{m z_r} -> (sigma_r S)^m: SymPy merges e^{z_r} e^{z_r} into e^{2 z_r}, so match the multiple."""
    coefficient, logit = power.args[0].as_coeff_Mul()
    if isinstance(logit, sp.Indexed) and logit.base == z and coefficient.is_Integer:
        return (sigma[logit.indices[0]] * S) ** coefficient
    return power


def softmax_substitution(n: int):
    """A rewrite e^{z_r} -> sigma_r S (for every multiple m z_r too); SymPy cancels the powers of S."""
    def rewrite(expr):
        return expr.replace(lambda e: isinstance(e, sp.exp), _exp_to_softmax) if expr.has(sp.exp) else expr
    return rewrite


def with_denominator(matrix: sp.ImmutableMatrix, n: int) -> sp.ImmutableMatrix:
    """Write S out again as e^{z_1} + ... + e^{z_K} (the sum is one shared SymPy object)."""
    total = denominator(n)
    return matrix.applyfunc(lambda e: e.xreplace({S: total}))


def factor_sums(matrix: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """Factor the entries that are sums; a monomial is already factored, so it is reused as is."""
    from .rewrites import factor_entry
    return matrix.applyfunc(lambda e: factor_entry(e) if isinstance(e, sp.Add) else e)


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
        n = len(self.args[0])
        return sp.ImmutableMatrix([[self._entry(r, c) for c in range(n)] for r in range(n)])


class Structured:
    """The factors of a diagonal + rank-one matrix, and that matrix (a StructuredMatrix).

    Every concrete Jacobian here has this shape, so equality of two such matrices is provable
    for every entry with O(K) small proofs instead of K^2 (`structured_equal`)."""

    def __init__(self, diagonal, left, right):
        self.diagonal, self.left, self.right = tuple(diagonal), tuple(left), tuple(right)
        self.matrix = StructuredMatrix(self.diagonal, self.left, self.right)

    @classmethod
    def from_total_derivative(cls, td: "TotalDerivative") -> "Structured":
        """Rows f_r that depend on z_r and S only: d f_r/d z_c = [r = c] direct_r + outer_r dS_c."""
        if any(set(d) - {r + 1} for r, d in enumerate(td.direct)):
            raise ValueError("a row depends on another logit directly: not diagonal + rank one")
        return cls([td.entry(r, r) for r in range(td.n)], td.outer, td.dS)

    def rewritten(self, rewrite) -> "Structured":
        """Apply a rewrite to every factor (O(K) rewrites)."""
        return Structured([rewrite(d) for d in self.diagonal], [rewrite(u) for u in self.left],
                          [rewrite(v) for v in self.right])

    def rescaled(self, factor: sp.Expr) -> "Structured":
        """(u_r * factor)(v_c / factor): the same products, with a common factor moved across
        (-sigma_r / S times sigma_c S becomes -sigma_r times sigma_c)."""
        return Structured(self.diagonal, [u * factor for u in self.left], [v / factor for v in self.right])

    def with_diagonal(self, rewrite) -> "Structured":
        return Structured([rewrite(d) for d in self.diagonal], self.left, self.right)

    @classmethod
    def from_matrix_form(cls, form, n: int) -> "Structured":
        """diag(sigma) - sigma sigma^T, I - 1 sigma^T, ...: SymPy's generic entries, instantiated."""
        from ..symbols import i, j
        from .common import column_entries_to_indexed
        generic_diagonal = column_entries_to_indexed(form[i, i], shift=0)
        off = sp.expand(column_entries_to_indexed(form[i, j], shift=0).xreplace({sp.KroneckerDelta(i, j): 0}))
        left = sp.Mul(*[f for f in sp.Mul.make_args(off) if j not in f.free_symbols])
        right = sp.Mul(*[f for f in sp.Mul.make_args(off) if j in f.free_symbols])
        if i in right.free_symbols:
            raise ValueError(f"off-diagonal entry {off} is not a product of a row and a column factor")
        diagonal = [generic_diagonal.xreplace({i: r}) for r in range(1, n + 1)]
        return cls(diagonal, [left.xreplace({i: r}) for r in range(1, n + 1)],
                   [right.xreplace({j: c}) for c in range(1, n + 1)])


def denominator_step(n: int):
    """S = e^{z_1} + ... + e^{z_K}: the shared denominator gets a name, as textbooks do."""
    from ..model import Rule, Step
    return Step(lhs=S, rhs=denominator(n), rule=Rule.ABBREVIATE, note="write S for the denominator")


def definitions(n: int) -> tuple:
    return ((S, denominator(n)),)


def in_logits(expr: sp.Expr) -> sp.Expr:
    """The normal form proofs work in: sigma_m -> e^{z_m} / S, logs of quotients split (S stays a symbol)."""
    expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == sigma,
                        lambda e: sp.exp(z[e.indices[0]]) / S)
    return sp.expand_log(expr, force=True) if expr.has(sp.log) else expr  # force: logits are real


def is_zero(difference: sp.Expr) -> bool:
    if difference == 0:
        return True
    expanded = sp.expand(difference)
    return expanded == 0 or sp.cancel(sp.together(expanded)) == 0


def structured_equal(a: Structured, b: Structured, normal=in_logits) -> bool:
    """Every entry of a equals the same entry of b, proved with O(K) small identities.

    Diagonal: entry by entry. Off-diagonal: both are rank one, u_r v_c and u'_r v'_c, so they agree
    everywhere once they agree on one column c0 and one row r0 and the corner is nonzero:
    u_r v_c = (u_r v_c0)(u_r0 v_c) / (u_r0 v_c0)."""
    n = len(a.diagonal)
    if n != len(b.diagonal):
        return False
    if not all(is_zero(normal(x) - normal(y)) for x, y in zip(a.diagonal, b.diagonal)):
        return False
    if n == 1:
        return True
    r0, c0 = 0, 1
    corner = normal(a.left[r0] * a.right[c0])
    if is_zero(corner):
        return False
    column = all(is_zero(normal(a.left[r] * a.right[c0]) - normal(b.left[r] * b.right[c0])) for r in range(n))
    row = all(is_zero(normal(a.left[r0] * a.right[c]) - normal(b.left[r0] * b.right[c])) for c in range(n))
    return column and row
